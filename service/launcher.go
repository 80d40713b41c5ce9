package service

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

// ServiceLauncher runs services on one hub in this process: oslo's
// ServiceLauncher. Wait runs the hub on the calling goroutine, starts the
// services and handles the signals, which reach its green threads through
// greensync.NotifySignal:
//
//   - SIGTERM or SIGINT: graceful stop — every service's Stop(true), then
//     their Wait — bounded by Options.DrainTimeout; exit status ExitOK.
//   - A second SIGTERM or SIGINT during the drain, or the drain bound
//     passing: a forced stop — Stop(false), which kills — and Wait returns
//     at once (within a second), with ExitFailure.
//   - SIGHUP: a restart, as Options.RestartMethod says — RestartReload
//     (the default) stops the services gracefully, resets and starts them
//     again; RestartMutate only resets them. A SIGTERM during a reload
//     turns it into a stop.
//
// (oslo exits at once on the first SIGINT, and on SIGHUP too when it runs
// in the foreground; here SIGINT is SIGTERM's twin, and SIGHUP always
// restarts.) When every service's Wait has returned on its own, Wait
// returns too — ExitOK, or ExitFailure if one returned an error —
// where oslo would wait for a signal. A Start error ends the run with
// ExitFailure (ExitNoRespawn if it matches ErrNoRespawn), after stopping
// the services already started.
//
// Inside a ProcessLauncher's worker the same launcher runs with the
// worker's rules: SIGINT is ignored (the parent gets the terminal's ^C),
// SIGHUP stops gracefully and exits (the parent has started the worker's
// replacement), and the parent's death forces a stop.
//
// Which goroutine may call what: NewServiceLauncher, LaunchService and
// Launch before Wait, from any goroutine; Wait once, from a goroutine that
// may be locked to its OS thread for the run (the main goroutine,
// typically); Stop and Hub from any goroutine, at any time.
type ServiceLauncher struct {
	opts    Options
	log     *slog.Logger
	h       *hub.Hub
	worker  bool   // a ProcessLauncher's worker: its signal rules
	started func() // called once every service has started (a worker tells its parent)

	mu       sync.Mutex
	services []Service
	running  bool
	stopAsk  bool // Stop before the events queue exists
	events   *greensync.Queue[event]
}

// NewServiceLauncher returns a launcher with its hub (made with
// opts.HubOptions).
func NewServiceLauncher(opts Options) *ServiceLauncher {
	return &ServiceLauncher{opts: opts, log: opts.logger(), h: hub.New(opts.HubOptions...)}
}

// Hub returns the hub the services run on.
func (l *ServiceLauncher) Hub() *hub.Hub { return l.h }

// Launch adds svc: LaunchService(svc, 1).
func (l *ServiceLauncher) Launch(svc Service) error { return l.LaunchService(svc, 1) }

// LaunchService adds svc to the services Wait will run. workers must be 1
// (oslo raises the same); files are ignored: the service runs in this
// process and has what it needs.
func (l *ServiceLauncher) LaunchService(svc Service, workers int, files ...*os.File) error {
	if workers != 1 {
		return fmt.Errorf("service: a ServiceLauncher runs 1 worker, not %d (use a ProcessLauncher)", workers)
	}
	if svc == nil {
		return errors.New("service: launch: nil service")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running {
		return errors.New("service: launch: the launcher is running already")
	}
	l.services = append(l.services, svc)
	return nil
}

// Stop asks for a graceful stop, as SIGTERM does. Any goroutine may call
// it, before or during Wait; a Stop before Wait makes Wait stop at once.
func (l *ServiceLauncher) Stop() { l.post(event{kind: evStop}) }

// post queues ev for the run from any goroutine.
func (l *ServiceLauncher) post(ev event) {
	l.mu.Lock()
	q := l.events
	if q == nil {
		if ev.kind == evStop {
			l.stopAsk = true
		}
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	put := func() { q.TryPut(ev) }
	if l.h.Raw().Current() != nil {
		put()
		return
	}
	l.h.Submit(put) // fails only after the run: nothing left to stop
}

type evKind int

const (
	evSignal evKind = iota
	evStop
	evDone
	evDrainOver
	evForceOver
	evParentDied
)

type event struct {
	kind evKind
	sig  os.Signal
	gen  int   // evDone, evDrainOver: the generation of services
	err  error // evDone: the first error of a Wait
}

type phase int

const (
	phaseRunning phase = iota
	phaseRestarting
	phaseStopping
)

// Wait runs the hub and the services until they end or are stopped, and
// returns the exit status (ExitOK, ExitFailure, ExitNoRespawn).
func (l *ServiceLauncher) Wait() int {
	l.mu.Lock()
	if l.running {
		l.mu.Unlock()
		l.log.Error("service: Wait called twice")
		return ExitFailure
	}
	l.running = true
	l.mu.Unlock()
	status := ExitOK
	err := l.h.Run(func() error {
		greenthread.Current(l.h).G().SetName("launcher") // names for traces and watchdog reports
		status = l.run()
		return nil
	})
	if err != nil {
		l.log.Error("service: hub failed", "err", err)
		return ExitFailure
	}
	return status
}

// run is the launcher's main green thread.
func (l *ServiceLauncher) run() int {
	h := l.h
	sigList := []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}
	if l.worker {
		sigList = []os.Signal{syscall.SIGTERM, syscall.SIGHUP} // SIGINT stays ignored
	}
	sigs, err := greensync.NotifySignal(h, sigList...)
	if err != nil {
		l.log.Error("service: signals", "err", err)
		return ExitFailure
	}
	defer sigs.Stop()

	q := greensync.NewQueue[event](h, -1)
	l.mu.Lock()
	l.events = q
	stopAsk := l.stopAsk
	services := l.services
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.events = nil
		l.mu.Unlock()
	}()
	if stopAsk {
		q.TryPut(event{kind: evStop})
	}

	// The signal relay: one green thread turns signals into events.
	greenthread.SpawnN(h, func() {
		greenthread.Current(h).G().SetName("signals")
		for {
			sig, err := sigs.Wait()
			if err != nil {
				return
			}
			q.TryPut(event{kind: evSignal, sig: sig})
		}
	})
	if l.worker {
		unwatch := watchParent(func() {
			h.Submit(func() { q.TryPut(event{kind: evParentDied}) })
		})
		defer unwatch()
	}

	r := runState{l: l, q: q, services: services}
	if st, ok := r.start(); !ok {
		return st
	}
	if l.started != nil {
		l.started()
	}
	for {
		ev, err := q.Get()
		if err != nil {
			l.log.Error("service: event queue", "err", err)
			return ExitFailure
		}
		if st, done := r.handle(ev); done {
			return st
		}
	}
}

// runState is the run's state machine, on the main green thread.
type runState struct {
	l        *ServiceLauncher
	q        *greensync.Queue[event]
	services []Service
	phase    phase
	gen      int // generation of the services: bumped by each start
	forced   bool
	status   int                           // the exit status of a stop
	drain    *greenthread.Thread[struct{}] // the drain bound's timer
}

// start starts every service and a green thread waiting for them all.
func (r *runState) start() (int, bool) {
	h := r.l.h
	r.gen++
	for i, svc := range r.services {
		if err := svc.Start(h); err != nil {
			st := ExitFailure
			if errors.Is(err, ErrNoRespawn) {
				st = ExitNoRespawn
			}
			r.l.log.Error("service: start failed", "service", i, "err", err, "status", st)
			r.services = r.services[:i]
			r.stopAll(false)
			r.waitAll(forceWait)
			return st, false
		}
	}
	gen := r.gen
	services := r.services
	greenthread.SpawnN(h, func() {
		greenthread.Current(h).G().SetName("wait services")
		var first error
		for _, svc := range services {
			if err := svc.Wait(); err != nil && first == nil {
				first = err
			}
		}
		r.q.TryPut(event{kind: evDone, gen: gen, err: first})
	})
	return 0, true
}

// stopAll calls every service's Stop, each in a green thread of its own
// (a graceful Stop may take the whole drain).
func (r *runState) stopAll(graceful bool) {
	for i, svc := range r.services {
		greenthread.SpawnN(r.l.h, func() {
			greenthread.Current(r.l.h).G().SetName("stop service " + strconv.Itoa(i))
			if err := svc.Stop(graceful); err != nil {
				r.l.log.Warn("service: stop failed", "service", i, "graceful", graceful, "err", err)
			}
		})
	}
}

// nameThread names a timer's green thread for traces, unless it could not
// be created (then the timer never fires).
func nameThread(g *hub.G, name string) {
	if g != nil {
		g.SetName(name)
	}
}

// waitAll waits for every service's Wait, for at most d.
func (r *runState) waitAll(d time.Duration) {
	services := r.services
	greensync.WithTimeout(r.l.h, d, func() (struct{}, error) {
		for _, svc := range services {
			if err := svc.Wait(); errors.Is(err, greensync.ErrTimeout) {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
}

// beginStop starts a graceful stop with its drain bound.
func (r *runState) beginStop(why string) {
	d := r.l.opts.drain()
	r.l.log.Info("service: stopping gracefully", "why", why, "drain", d.String())
	r.stopAll(true)
	if d > 0 {
		gen := r.gen
		q := r.q
		r.drain = greenthread.SpawnAfter(r.l.h, d, func() (struct{}, error) {
			q.TryPut(event{kind: evDrainOver, gen: gen})
			return struct{}{}, nil
		})
		nameThread(r.drain.G(), "drain bound")
	}
}

func (r *runState) cancelDrain() {
	if r.drain != nil {
		r.drain.Kill()
		r.drain = nil
	}
}

// force turns the stop under way into a forced one.
func (r *runState) force(why string) {
	if r.forced {
		return
	}
	r.forced = true
	r.status = ExitFailure
	r.cancelDrain()
	r.l.log.Warn("service: forcing the stop", "why", why)
	r.stopAll(false)
	q, gen := r.q, r.gen
	bound := greenthread.SpawnAfter(r.l.h, forceWait, func() (struct{}, error) {
		q.TryPut(event{kind: evForceOver, gen: gen})
		return struct{}{}, nil
	})
	nameThread(bound.G(), "force bound")
}

// handle handles one event; done says the run is over, with status.
func (r *runState) handle(ev event) (status int, done bool) {
	log := r.l.log
	switch ev.kind {
	case evSignal, evStop:
		sig := "Stop"
		if ev.kind == evSignal {
			sig = ev.sig.String()
		}
		switch {
		case ev.sig == syscall.SIGHUP && !r.l.worker:
			if r.phase != phaseRunning {
				log.Info("service: SIGHUP ignored: a stop or restart is under way")
				return 0, false
			}
			if r.l.opts.RestartMethod == RestartMutate {
				log.Info("service: SIGHUP: resetting the services")
				r.resetAll()
				return 0, false
			}
			r.phase = phaseRestarting
			r.beginStop("SIGHUP: reload")
		case r.phase == phaseRunning:
			r.phase = phaseStopping
			r.beginStop(sig)
		case r.phase == phaseRestarting:
			log.Info("service: stopping instead of restarting", "signal", sig)
			r.phase = phaseStopping
		case ev.kind == evSignal && !r.l.worker:
			// A worker's stop is the parent's to force (SIGKILL after
			// its KillTimeout): a SIGTERM after the SIGHUP that retired
			// it must not cut its requests short.
			r.force("second " + sig)
		}
	case evParentDied:
		log.Error("service: the parent process died; exiting")
		r.phase = phaseStopping
		r.force("parent died")
	case evDrainOver:
		if ev.gen == r.gen && r.phase != phaseRunning {
			r.force("drain bound passed")
		}
	case evForceOver:
		if ev.gen != r.gen {
			return 0, false // a forced reload that completed
		}
		log.Warn("service: services still running after a forced stop; exiting all the same")
		return ExitFailure, true
	case evDone:
		if ev.gen != r.gen {
			return 0, false
		}
		r.cancelDrain()
		switch r.phase {
		case phaseRunning:
			if ev.err != nil {
				log.Error("service: a service ended with an error", "err", ev.err)
				return ExitFailure, true
			}
			log.Info("service: all services ended")
			return ExitOK, true
		case phaseRestarting:
			if r.forced {
				// Forced during the reload: the services are down; start
				// them all the same.
				r.forced, r.status = false, ExitOK
			}
			r.resetAll()
			if st, ok := r.start(); !ok {
				return st, true
			}
			r.phase = phaseRunning
			log.Info("service: services restarted")
		case phaseStopping:
			if ev.err != nil && r.status == ExitOK {
				log.Warn("service: a service stopped with an error", "err", ev.err)
			}
			log.Info("service: stopped", "status", r.status)
			return r.status, true
		}
	}
	return 0, false
}

func (r *runState) resetAll() {
	for i, svc := range r.services {
		if err := svc.Reset(); err != nil {
			r.l.log.Error("service: reset failed", "service", i, "err", err)
		}
	}
}
