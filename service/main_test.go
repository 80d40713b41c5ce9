package service_test

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
	"github.com/greenhub/greenhub/service"
	"go.uber.org/goleak"
)

// The test binary plays three parts. Run by go test, it runs the tests.
// Run with envParent set, it is a ProcessLauncher's parent: it listens on
// 127.0.0.1:0, logs the address (JSON records on stderr, which the tests
// read) and supervises workers of echoService. Run by that parent, it is a
// worker (service.Worker reports ok) and serves echoService on the
// inherited listener.
const (
	envParent  = "SERVICE_TEST_PARENT"
	envWorkers = "SERVICE_TEST_WORKERS" // workers (default 2)
	envMode    = "SERVICE_TEST_MODE"    // the workers': echo (default), fail, norespawn, slowstart
	envDrain   = "SERVICE_TEST_DRAIN"   // Options.DrainTimeout, a duration
	envKill    = "SERVICE_TEST_KILL"    // Options.KillTimeout, a duration
)

func TestMain(m *testing.M) {
	if _, _, ok := service.Worker(); ok {
		os.Exit(workerMain())
	}
	if os.Getenv(envParent) != "" {
		os.Exit(parentMain())
	}
	setupReaper()
	goleak.VerifyTestMain(m)
}

func envOptions(logger *slog.Logger) service.Options {
	opts := service.Options{Logger: logger}
	if d, err := time.ParseDuration(os.Getenv(envDrain)); err == nil {
		opts.DrainTimeout = d
	}
	if d, err := time.ParseDuration(os.Getenv(envKill)); err == nil {
		opts.KillTimeout = d
	}
	return opts
}

func envWorkerCount() int {
	if n, err := strconv.Atoi(os.Getenv(envWorkers)); err == nil {
		return n
	}
	return 2
}

func parentMain() int {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("role", "parent")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		logger.Error("test: listen", "err", err)
		return 2
	}
	f, err := ln.(*net.TCPListener).File() // a duplicate: the socket stays open in f
	ln.Close()
	if err != nil {
		logger.Error("test: listener file", "err", err)
		return 2
	}
	logger.Info("test: listening", "addr", ln.Addr().String())
	l := service.NewProcessLauncher(envOptions(logger))
	if err := l.LaunchService(&echoService{}, envWorkerCount(), f); err != nil {
		logger.Error("test: launch", "err", err)
		return 2
	}
	return l.Wait()
}

func workerMain() int {
	index, files, _ := service.Worker()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("role", "worker", "index", index, "pid", os.Getpid())
	if len(files) != 1 {
		logger.Error("test: worker inherited files", "n", len(files))
		return service.ExitNoRespawn
	}
	l := service.NewProcessLauncher(envOptions(logger))
	l.LaunchService(&echoService{file: files[0], mode: os.Getenv(envMode), log: logger}, envWorkerCount(), files...)
	return l.Wait()
}

// echoService serves a line protocol on an inherited listener: "sleep N"
// answers "ack", sleeps N milliseconds and answers "slept"; "pid" answers
// the worker's pid; any other line is echoed.
type echoService struct {
	service.Base
	file *os.File
	mode string
	log  *slog.Logger

	h   *hub.Hub
	srv *netio.Server
}

func (e *echoService) Start(h *hub.Hub) error {
	switch e.mode {
	case "fail":
		return errors.New("test: failing at start")
	case "norespawn":
		return fmt.Errorf("test: bad configuration: %w", service.ErrNoRespawn)
	}
	e.h = h
	e.Base.Start(h)
	if e.mode == "slowstart" {
		// A service that takes a while to listen (reading its
		// configuration, say): its parent must not retire the worker it
		// replaces meanwhile.
		if err := greenthread.Sleep(h, 300*time.Millisecond); err != nil {
			return err
		}
	}
	l, err := netio.FileListener(h, e.file)
	if err != nil {
		return err
	}
	srv := &netio.Server{Handler: e.handle, Spawn: e.TG().SpawnN}
	e.srv = srv
	if _, err := e.TG().Spawn(func() error { return srv.Serve(l) }); err != nil {
		return err
	}
	e.log.Info("test: serving")
	return nil
}

func (e *echoService) Stop(graceful bool) error {
	if e.srv != nil {
		e.srv.Stop()
		if !graceful {
			e.srv.CloseConns()
		}
	}
	return e.Base.Stop(graceful)
}

func (e *echoService) handle(c *netio.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		var reply string
		switch cmd := strings.TrimSpace(line); {
		case strings.HasPrefix(cmd, "sleep "):
			ms, _ := strconv.Atoi(strings.TrimPrefix(cmd, "sleep "))
			if _, err := c.Write([]byte("ack\n")); err != nil {
				return
			}
			if err := greenthread.Sleep(e.h, time.Duration(ms)*time.Millisecond); err != nil {
				return
			}
			reply = "slept\n"
		case cmd == "pid":
			reply = strconv.Itoa(os.Getpid()) + "\n"
		default:
			reply = line
		}
		if _, err := c.Write([]byte(reply)); err != nil {
			return
		}
	}
}
