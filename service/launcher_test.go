package service_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/service"
)

// The ServiceLauncher tests send signals to the test process itself; the
// launcher relays them from the moment it starts its services until Wait
// returns, and every test waits for the services to have started before
// it signals, and for Wait to return before it ends.

// testService records what the launcher does to it. Its one thread waits
// until a graceful stop and then drains for drain.
type testService struct {
	service.Base
	drain    time.Duration
	startErr error

	started chan struct{}
	resets  chan struct{}
	stops   chan bool // graceful
	stopEv  *greensync.Event[struct{}]
}

func newTestService(drain time.Duration) *testService {
	return &testService{
		drain:   drain,
		started: make(chan struct{}, 16),
		resets:  make(chan struct{}, 16),
		stops:   make(chan bool, 16),
	}
}

// note sends on a buffered channel from a green thread without blocking.
func note[T any](c chan T, v T) {
	select {
	case c <- v:
	default:
	}
}

func (ts *testService) Start(h *hub.Hub) error {
	if ts.startErr != nil {
		return ts.startErr
	}
	ts.Base.Start(h)
	ts.stopEv = greensync.NewEvent[struct{}](h)
	ev := ts.stopEv
	if _, err := ts.TG().Spawn(func() error {
		if _, err := ev.Wait(); err != nil {
			return err
		}
		return greenthread.Sleep(h, ts.drain)
	}); err != nil {
		return err
	}
	note(ts.started, struct{}{})
	return nil
}

func (ts *testService) Stop(graceful bool) error {
	note(ts.stops, graceful)
	if graceful && ts.stopEv != nil && !ts.stopEv.Ready() {
		ts.stopEv.Send(struct{}{})
	}
	return ts.Base.Stop(graceful)
}

func (ts *testService) Reset() error {
	note(ts.resets, struct{}{})
	return nil
}

// testLogger logs through t until the test ends.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(b[:len(b)-1]))
	return len(b), nil
}

// waitRun runs l.Wait in a goroutine and returns its status's channel;
// the test ends only once Wait has returned.
func waitRun(t *testing.T, l service.Launcher) <-chan int {
	t.Helper()
	done := make(chan int, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- l.Wait()
	}()
	t.Cleanup(func() {
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("the launcher's Wait did not return")
		}
	})
	return done
}

// recv receives from c within d (0: at once), or fails the test.
func recv[T any](t *testing.T, c <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	default:
	}
	select {
	case v := <-c:
		return v
	case <-time.After(d):
		t.Fatalf("no %s within %v", what, d)
		var zero T
		return zero
	}
}

func selfSignal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Fatal(err)
	}
}

// status receives the exit status within d and checks it; it returns how
// long that took.
func status(t *testing.T, done <-chan int, d time.Duration, want int) time.Duration {
	t.Helper()
	t0 := time.Now()
	if st := recv(t, done, d, "exit status"); st != want {
		t.Errorf("exit status %d, want %d", st, want)
	}
	return time.Since(t0)
}

func TestServiceLauncherSIGTERM(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			ts := newTestService(100 * time.Millisecond)
			l := service.NewServiceLauncher(service.Options{Logger: testLogger(t)})
			if err := l.Launch(ts); err != nil {
				t.Fatal(err)
			}
			done := waitRun(t, l)
			recv(t, ts.started, 5*time.Second, "start")
			t0 := time.Now()
			selfSignal(t, sig)
			status(t, done, 5*time.Second, service.ExitOK)
			if took := time.Since(t0); took < ts.drain {
				t.Errorf("stopped after %v, before the %v drain", took, ts.drain)
			}
			if g := recv(t, ts.stops, 0, "stop"); !g {
				t.Error("the stop was not graceful")
			}
		})
	}
}

func TestServiceLauncherSIGHUP(t *testing.T) {
	for _, tc := range []struct {
		method   service.RestartMethod
		restarts bool
	}{
		{service.RestartReload, true},
		{service.RestartMutate, false},
	} {
		t.Run(fmt.Sprint(tc.method), func(t *testing.T) {
			ts := newTestService(10 * time.Millisecond)
			l := service.NewServiceLauncher(service.Options{Logger: testLogger(t), RestartMethod: tc.method})
			l.Launch(ts)
			done := waitRun(t, l)
			recv(t, ts.started, 5*time.Second, "start")
			selfSignal(t, syscall.SIGHUP)
			recv(t, ts.resets, 5*time.Second, "Reset")
			if tc.restarts {
				if g := recv(t, ts.stops, 0, "stop before the reset"); !g {
					t.Error("the reload's stop was not graceful")
				}
				recv(t, ts.started, 5*time.Second, "start after the reset")
			} else if len(ts.stops) != 0 {
				t.Error("RestartMutate stopped the service")
			}
			// And again: a second SIGHUP restarts again.
			selfSignal(t, syscall.SIGHUP)
			recv(t, ts.resets, 5*time.Second, "second Reset")
			if tc.restarts {
				recv(t, ts.started, 5*time.Second, "second start after the reset")
			}
			selfSignal(t, syscall.SIGTERM)
			status(t, done, 5*time.Second, service.ExitOK)
		})
	}
}

// A second SIGTERM or SIGINT during a long drain forces the stop at once.
func TestServiceLauncherSecondSignalForces(t *testing.T) {
	for _, sigs := range [][2]syscall.Signal{
		{syscall.SIGTERM, syscall.SIGTERM},
		{syscall.SIGTERM, syscall.SIGINT},
		{syscall.SIGINT, syscall.SIGINT},
	} {
		t.Run(sigs[0].String()+"+"+sigs[1].String(), func(t *testing.T) {
			ts := newTestService(time.Hour)
			l := service.NewServiceLauncher(service.Options{Logger: testLogger(t)})
			l.Launch(ts)
			done := waitRun(t, l)
			recv(t, ts.started, 5*time.Second, "start")
			selfSignal(t, sigs[0])
			if g := recv(t, ts.stops, 5*time.Second, "graceful stop"); !g {
				t.Fatal("first stop not graceful")
			}
			selfSignal(t, sigs[1])
			if took := status(t, done, 5*time.Second, service.ExitFailure); took > 2*time.Second {
				t.Errorf("forced stop took %v", took)
			}
			if g := recv(t, ts.stops, 0, "forced stop"); g {
				t.Error("second stop not forced")
			}
		})
	}
}

// The drain bound forces the stop.
func TestServiceLauncherDrainBound(t *testing.T) {
	ts := newTestService(time.Hour)
	l := service.NewServiceLauncher(service.Options{Logger: testLogger(t), DrainTimeout: 200 * time.Millisecond})
	l.Launch(ts)
	done := waitRun(t, l)
	recv(t, ts.started, 5*time.Second, "start")
	l.Stop() // from this goroutine, as SIGTERM
	took := status(t, done, 5*time.Second, service.ExitFailure)
	if took < 200*time.Millisecond || took > 3*time.Second {
		t.Errorf("stopped after %v; want the 200ms drain bound and then at once", took)
	}
}

func TestServiceLauncherStop(t *testing.T) {
	t.Run("during", func(t *testing.T) {
		ts := newTestService(0)
		l := service.NewServiceLauncher(service.Options{Logger: testLogger(t)})
		l.Launch(ts)
		done := waitRun(t, l)
		recv(t, ts.started, 5*time.Second, "start")
		l.Stop()
		status(t, done, 5*time.Second, service.ExitOK)
	})
	t.Run("before", func(t *testing.T) {
		ts := newTestService(0)
		l := service.NewServiceLauncher(service.Options{Logger: testLogger(t)})
		l.Launch(ts)
		l.Stop()
		status(t, waitRun(t, l), 5*time.Second, service.ExitOK)
	})
}

// Services that end on their own end the run.
func TestServiceLauncherServicesEnd(t *testing.T) {
	l := service.NewServiceLauncher(service.Options{Logger: testLogger(t)})
	l.Launch(&service.Base{})
	l.Launch(&service.Base{})
	status(t, waitRun(t, l), 5*time.Second, service.ExitOK)
}

func TestServiceLauncherStartFails(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{errors.New("port taken"), service.ExitFailure},
		{fmt.Errorf("bad config: %w", service.ErrNoRespawn), service.ExitNoRespawn},
	} {
		t.Run(fmt.Sprint(tc.want), func(t *testing.T) {
			ok := newTestService(time.Hour)
			bad := newTestService(0)
			bad.startErr = tc.err
			l := service.NewServiceLauncher(service.Options{Logger: testLogger(t)})
			l.Launch(ok)
			l.Launch(bad)
			status(t, waitRun(t, l), 5*time.Second, tc.want)
			if g := recv(t, ok.stops, 0, "stop of the started service"); g {
				t.Error("the started service's stop was graceful")
			}
		})
	}
}

func TestLaunch(t *testing.T) {
	svc := &service.Base{}
	if _, err := service.Launch(svc, 0, service.Options{}); err == nil {
		t.Error("Launch with 0 workers succeeded")
	}
	l, err := service.Launch(svc, 1, service.Options{})
	if _, ok := l.(*service.ServiceLauncher); !ok || err != nil {
		t.Errorf("Launch(1) = %T, %v; want a ServiceLauncher", l, err)
	}
	l, err = service.Launch(svc, 3, service.Options{})
	if _, ok := l.(*service.ProcessLauncher); !ok || err != nil {
		t.Errorf("Launch(3) = %T, %v; want a ProcessLauncher", l, err)
	}
	sl := service.NewServiceLauncher(service.Options{})
	if err := sl.LaunchService(svc, 2); err == nil {
		t.Error("ServiceLauncher accepted 2 workers")
	}
}
