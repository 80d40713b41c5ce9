package service_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/service"
	"github.com/greenhub/greenhub/timers"
)

// A ThreadGroup's timers on a virtual clock: an hour passes in no time.
func ExampleThreadGroup() {
	h := hub.New(hub.WithClock(timers.NewVirtual(true)))
	h.Run(func() error {
		tg := service.NewThreadGroup(h, 10)
		ticks := 0
		tg.AddTimer(10*time.Minute, func() error { ticks++; return nil }, 0)
		// A dynamic timer backs off: 1, 2, 4, 8… minutes, at most 15:
		// calls at 0, 1, 3, 7, 15, 30 and 45 minutes.
		backoff, polls := time.Minute, 0
		tg.AddDynamicTimer(func() (time.Duration, error) {
			polls++
			next := backoff
			backoff *= 2
			return next, nil
		}, 0, 15*time.Minute)
		// Main's hour ends before the timers' calls due at the same
		// instant: equal deadlines fire in the order they were set.
		greenthread.Sleep(h, time.Hour)
		tg.Stop(false)
		fmt.Println("fixed:", ticks, "dynamic:", polls)
		return nil
	})
	// Output:
	// fixed: 6 dynamic: 7
}

// periodic is a service with a periodic task, built on Base.
type periodic struct {
	service.Base
	every time.Duration
	runs  int
}

func (p *periodic) Start(h *hub.Hub) error {
	p.Base.Start(h)
	_, err := p.TG().AddTimer(p.every, func() error {
		p.runs++
		if p.runs == 3 {
			syscall.Kill(os.Getpid(), syscall.SIGTERM) // what an operator would do
		}
		return nil
	}, 0)
	return err
}

// A ServiceLauncher runs services on one hub until SIGTERM.
func ExampleServiceLauncher() {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := &periodic{every: 10 * time.Millisecond}
	l := service.NewServiceLauncher(service.Options{Logger: quiet})
	l.Launch(svc)
	status := l.Wait()
	fmt.Println("runs:", svc.runs, "exit status:", status)
	// Output:
	// runs: 3 exit status: 0
}

// The shape of a program run by a ProcessLauncher: the same main in the
// parent and in its workers. (No output: it would start processes.)
func ExampleProcessLauncher() {
	_, files, isWorker := service.Worker() // first thing: the worker's environment
	if !isWorker {
		ln, err := net.Listen("tcp", "127.0.0.1:6000")
		if err != nil {
			os.Exit(service.ExitNoRespawn)
		}
		f, _ := ln.(*net.TCPListener).File() // stays open in the parent
		files = []*os.File{f}
	}
	l := service.NewProcessLauncher(service.Options{DrainTimeout: 10 * time.Second})
	// In a worker, echoService serves files[0] with netio.FileListener.
	l.LaunchService(&echoService{file: files[0]}, 4, files...)
	os.Exit(l.Wait())
}
