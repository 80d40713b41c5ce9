package service

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/greenhub/greenhub/hub"
)

// Service is oslo.service's ServiceBase: something a launcher starts on a
// hub, stops, waits for and resets.
//
// The launcher calls every method from a green thread of the hub given to
// Start. Wait is called once per Start, from a green thread of its own,
// and blocks alongside the other calls; Stop(false) may come while a
// Stop(true) is still draining (the launcher's drain bound); Reset and
// Start are never called while the service runs, except Reset with
// RestartMutate.
type Service interface {
	// Start starts the service on h: it spawns what it runs (in a
	// ThreadGroup, say) and returns; it must not wait for the service to
	// end. An error that errors.Is ErrNoRespawn says the service can never
	// start in this configuration (see ExitNoRespawn).
	Start(h *hub.Hub) error
	// Stop stops the service. Graceful: stop taking new work and return
	// once the work in flight is done (oslo's stop(graceful=True), which
	// waits for the threads); otherwise kill what runs, at once. A
	// launcher bounds a graceful stop (Options.DrainTimeout) and then
	// calls Stop(false).
	Stop(graceful bool) error
	// Wait blocks the calling green thread until the service has ended,
	// on its own or after Stop.
	Wait() error
	// Reset is called on SIGHUP, to reload the configuration (oslo's
	// reset): between Stop and Start again with RestartReload, on the
	// running service with RestartMutate.
	Reset() error
}

// Base is an embeddable Service with a ThreadGroup, as oslo's Service has
// self.tg: Start creates the group (of Threads green threads, 1000 if 0,
// oslo's default); Stop stops it (Stop(graceful)); Wait waits for it;
// Reset does nothing. A service embeds it, calls Base.Start from its own
// Start and spawns into TG. After a Stop, Start again makes a new group.
// Its methods are a Service's: for the hub's green threads.
type Base struct {
	// Threads is the size of the group's pool (oslo's threads=1000).
	Threads int

	tg *ThreadGroup
}

// Start creates the ThreadGroup on h.
func (b *Base) Start(h *hub.Hub) error {
	n := b.Threads
	if n <= 0 {
		n = 1000
	}
	b.tg = NewThreadGroup(h, n)
	return nil
}

// TG returns the service's ThreadGroup (nil before Start).
func (b *Base) TG() *ThreadGroup { return b.tg }

// Stop stops the ThreadGroup: graceful waits for its threads, otherwise
// they are killed.
func (b *Base) Stop(graceful bool) error {
	if b.tg == nil {
		return nil
	}
	return b.tg.Stop(graceful)
}

// Wait waits for the ThreadGroup's timers and threads to end.
func (b *Base) Wait() error {
	if b.tg == nil {
		return nil
	}
	return b.tg.Wait()
}

// Reset does nothing.
func (b *Base) Reset() error { return nil }

// Exit statuses of launchers (Launcher.Wait) and workers.
const (
	// ExitOK: the services ended on their own, or stopped gracefully
	// within the drain bound, as asked (SIGTERM, SIGINT, Stop; a worker's
	// SIGHUP).
	ExitOK = 0
	// ExitFailure: a stop had to be forced (the drain bound passed, a
	// second SIGTERM or SIGINT, the parent died), a service failed to
	// start or ended with an error, or the hub failed. A ProcessLauncher
	// respawns a worker that exits with it, as one that crashed (Go's
	// panics exit with 2) or died by a signal.
	ExitFailure = 1
	// ExitNoRespawn is the status of a worker that cannot recover (Glance's
	// rule: a child exiting that way is not respawned): a ProcessLauncher
	// logs why and does not respawn it, and exits with it itself when no
	// worker is left. A launcher exits with it when a service's Start
	// returns an error matching ErrNoRespawn; a program may os.Exit with it
	// directly. It is sysexits.h's EX_CONFIG (78, "configuration error"):
	// neither 1 (any failure, log.Fatal) nor 2 (Go's panics, fatal runtime
	// errors, flag errors), which are crashes worth a retry; systemd's
	// RestartPreventExitStatus=78 makes the same rule one level up.
	ExitNoRespawn = 78
)

// ErrNoRespawn marks a Start error that a new process would meet again (a
// bad configuration, a missing file): the launcher exits with
// ExitNoRespawn and a ProcessLauncher does not respawn the worker. Wrap
// it: fmt.Errorf("bad listen address %q: %w", addr, service.ErrNoRespawn).
var ErrNoRespawn = errors.New("service: cannot recover; do not respawn")

// RestartMethod is what a ServiceLauncher does on SIGHUP (oslo's
// restart_method).
type RestartMethod int

const (
	// RestartReload stops every service gracefully (bounded by
	// DrainTimeout), waits for them, calls Reset and starts them again:
	// oslo's 'reload', its default.
	RestartReload RestartMethod = iota
	// RestartMutate calls Reset on the running services and nothing else:
	// oslo's 'mutate', for services that apply a new configuration in
	// place.
	RestartMutate
)

// Options configure a launcher. The zero value is oslo's defaults.
type Options struct {
	// Logger gets the launcher's records; nil is slog.Default().
	Logger *slog.Logger
	// DrainTimeout bounds a graceful stop (oslo's
	// graceful_shutdown_timeout): once it has passed, the stop is forced
	// (Stop(false)) and the exit status is ExitFailure. 0 means 60s,
	// oslo's default; negative means no bound.
	DrainTimeout time.Duration
	// RestartMethod is a ServiceLauncher's SIGHUP behaviour (workers of a
	// ProcessLauncher are replaced instead; see ProcessLauncher).
	RestartMethod RestartMethod
	// HubOptions are given to hub.New for a ServiceLauncher's hub (and a
	// worker's).
	HubOptions []hub.Option
	// KillTimeout is how long a ProcessLauncher waits for a worker it sent
	// SIGTERM (a stop) or SIGHUP (a restart) before it sends SIGKILL. 0
	// means the drain bound plus 5s, so that workers bound their own
	// drains first; negative means no bound.
	KillTimeout time.Duration
}

const defaultDrain = 60 * time.Second

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// drain returns the drain bound; 0 is no bound.
func (o *Options) drain() time.Duration {
	switch {
	case o.DrainTimeout == 0:
		return defaultDrain
	case o.DrainTimeout < 0:
		return 0
	}
	return o.DrainTimeout
}

// killAfter returns the SIGKILL bound; 0 is no bound.
func (o *Options) killAfter() time.Duration {
	switch {
	case o.KillTimeout < 0:
		return 0
	case o.KillTimeout > 0:
		return o.KillTimeout
	case o.drain() == 0:
		return 0
	}
	return o.drain() + 5*time.Second
}

// forceWait is how long a launcher waits for its services to end after a
// forced stop before it returns all the same (the hub then kills what is
// left as Run ends).
const forceWait = time.Second

// Launcher is what Launch returns: oslo's launcher objects.
type Launcher interface {
	// LaunchService adds a service to run, in workers processes (a
	// ServiceLauncher accepts 1 only) inheriting files (a ServiceLauncher
	// ignores them: its service is in this process). Call it before Wait,
	// from the goroutine that will call Wait.
	LaunchService(svc Service, workers int, files ...*os.File) error
	// Wait runs the services until they end or a signal or Stop stops
	// them, and returns the exit status for os.Exit.
	Wait() int
	// Stop asks for a graceful stop, as SIGTERM does. Any goroutine.
	Stop()
}

// Launch starts svc as oslo's launch() does: workers == 1 runs it in this
// process (a ServiceLauncher); workers > 1 in that many worker processes
// (a ProcessLauncher) that inherit files; workers <= 0 is an error. The
// caller then calls Wait. Any goroutine may call it.
func Launch(svc Service, workers int, opts Options, files ...*os.File) (Launcher, error) {
	var l Launcher
	switch {
	case workers <= 0:
		return nil, fmt.Errorf("service: launch: %d workers; want at least 1", workers)
	case workers == 1:
		l = NewServiceLauncher(opts)
	default:
		l = NewProcessLauncher(opts)
	}
	if err := l.LaunchService(svc, workers, files...); err != nil {
		return nil, err
	}
	return l, nil
}
