package service

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// ProcessLauncher runs services in worker processes: oslo's
// ProcessLauncher. Go cannot fork a running program, so a worker is the
// program itself, executed again (os.Executable, os.Args, the environment
// plus EnvWorker, EnvService and EnvFiles) and inheriting the files given
// to LaunchService as descriptors 4, 5… (as exec.Cmd.ExtraFiles would,
// without its side effect: see LaunchService) — listening sockets, typically,
// which stay open in the parent, so that connections wait in the socket's
// backlog while workers come and go instead of being refused.
//
// The same main runs in the parent and in the workers:
//
//	func main() {
//		_, files, isWorker := service.Worker() // early, before listening
//		if !isWorker {
//			ln, _ := net.Listen("tcp", addr)
//			f, _ := ln.(*net.TCPListener).File()
//			files = []*os.File{f}
//		}
//		l := service.NewProcessLauncher(opts)
//		l.LaunchService(&echoService{file: files[0]}, 4, files...)
//		os.Exit(l.Wait())
//	}
//
// In the parent, Wait starts the workers and supervises them; in a
// worker, LaunchService picks the call whose service the worker runs
// (EnvService: the program must make the same LaunchService calls in the
// same order) and Wait runs that service on a hub, with a ServiceLauncher
// under the worker's rules, returning its exit status.
//
// The parent runs no hub: it supervises with plain goroutines,
// syscall.ForkExec, os.Process and os/signal, none of it green code. It
// handles:
//
//   - A worker that ends — by a signal, a crash, any exit status — is
//     respawned into its slot, except: with status ExitNoRespawn it is not
//     (Glance's rule; the parent logs why, and exits with ExitNoRespawn
//     itself when no worker is left); while stopping; and a retired one
//     (below). Respawns are throttled as oslo's are: the parent keeps the
//     times of the last workers+1 forks of the service, and when it has
//     workers+1 and the oldest is less than workers seconds old, the next
//     fork waits a second — workers start at once, and a crash loop settles
//     at workers+1 forks every workers seconds, about one a second.
//   - SIGTERM, SIGINT or Stop: SIGTERM to every worker, which stops
//     gracefully; the parent waits for all of them, and sends SIGKILL to
//     those still alive after Options.KillTimeout; then Wait returns
//     ExitOK (ExitFailure if one had to be killed). A second SIGTERM or
//     SIGINT kills the workers at once.
//   - SIGHUP: a graceful restart (restart_method 'reload', the Glance way):
//     a new generation of workers is started — the same program read
//     afresh, with the configuration as it is now — and once every worker
//     of the new generation has started its service (Start returned; the
//     worker says so with a byte on its ready pipe, the descriptor after
//     the files, named by EnvReady), the old workers get SIGHUP: they stop
//     accepting, finish the requests in flight and exit, and are not
//     respawned (SIGKILL after KillTimeout). New workers listen before old
//     ones leave — on the inherited socket, which never closes, or on
//     listeners of their own (SO_REUSEPORT) opened in Start — so no
//     connection is refused in between. The new generation's forks count
//     toward the throttle, so some may wait a second; the old generation
//     serves meanwhile. The parent calls no method of the Service: each
//     worker builds its own. (A new generation that cannot start — its
//     workers exit, with ExitNoRespawn say — still retires the old one once
//     each of its slots has been started and has either started its
//     service or ended.)
//   - Workers ignore SIGINT, so one ^C reaches the parent only.
//   - When the parent dies, its workers exit within a second: on Linux the
//     kernel sends them SIGKILL (SysProcAttr.Pdeathsig; the parent forks
//     from one goroutine locked to its OS thread, since Pdeathsig follows
//     the thread that forked), and everywhere the worker watches a pipe
//     whose write end only the parent holds (oslo's writepipe): at its EOF
//     the worker forces its stop and exits with ExitFailure.
//   - Every worker is waited for (no zombies); Wait returns only when none
//     is left.
//
// Which goroutine may call what: NewProcessLauncher and LaunchService
// before Wait, from any goroutine; Wait once, from any goroutine (in a
// worker, one that may be locked to its OS thread: it runs the hub); Stop
// from any goroutine, at any time.
type ProcessLauncher struct {
	opts Options
	log  *slog.Logger

	mu        sync.Mutex
	wraps     []*wrap
	launched  int  // LaunchService calls
	running   bool // Wait was called
	stop      chan struct{}
	stopOnce  sync.Once
	isWorker  bool
	workerSvc Service
	workerSL  *ServiceLauncher
}

// wrap is oslo's ServiceWrapper: a service and its workers.
type wrap struct {
	id      int
	svc     Service
	workers int
	files   []*os.File

	throttle  forkThrottle
	slots     []*child // the current generation's worker in each slot
	begun     []bool   // the slot has had a worker in this generation
	abandoned []bool   // the slot's worker exited with ExitNoRespawn
	pending   time.Time
	gen       int
}

// child is one worker process.
type child struct {
	w       *wrap
	proc    *os.Process
	pid     int
	slot    int
	gen     int
	ready   bool      // its service has started (the ready pipe)
	retired bool      // of an old generation: not respawned
	hupSent bool      // retired and told so
	killAt  time.Time // SIGKILL then, if still alive (zero: no bound)
	killed  bool
}

type exitMsg struct {
	c     *child
	state *os.ProcessState
	err   error
}

// NewProcessLauncher returns a launcher; in a worker process (Worker
// reports ok) it is the worker's side.
func NewProcessLauncher(opts Options) *ProcessLauncher {
	_, _, isWorker := Worker()
	return &ProcessLauncher{opts: opts, log: opts.logger(), stop: make(chan struct{}), isWorker: isWorker}
}

// IsWorker reports whether this launcher is a worker's side.
func (p *ProcessLauncher) IsWorker() bool { return p.isWorker }

// LaunchService adds svc, to run in workers processes that inherit files
// (as descriptors 4, 5…; a worker gets them from Worker). In a worker it
// records svc if this call is the one the worker runs.
//
// The files stay open in the parent and are shared with every worker, and
// so is their blocking mode: O_NONBLOCK belongs to the open file, not to a
// descriptor. The launcher never calls os.File.Fd on them, which switches
// the file to blocking mode (os/exec does, for ExtraFiles: hence
// syscall.ForkExec here); neither should the program, in the parent or in
// a worker — a hub whose listening socket has become blocking waits in
// accept(2) when a sibling takes the connection first, and every green
// thread of the worker stops. Use SyscallConn, as netio.FileListener does.
func (p *ProcessLauncher) LaunchService(svc Service, workers int, files ...*os.File) error {
	if workers < 1 {
		return fmt.Errorf("service: launch: %d workers; want at least 1", workers)
	}
	if svc == nil {
		return errors.New("service: launch: nil service")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return errors.New("service: launch: the launcher is running already")
	}
	id := p.launched
	p.launched++
	if p.isWorker {
		if id == workerState.service {
			p.workerSvc = svc
		}
		return nil
	}
	w := &wrap{id: id, svc: svc, workers: workers, files: files, throttle: forkThrottle{workers: workers}}
	w.newGeneration()
	p.wraps = append(p.wraps, w)
	return nil
}

// Stop asks for a graceful stop, as SIGTERM does. Any goroutine, any time.
func (p *ProcessLauncher) Stop() {
	p.stopOnce.Do(func() { close(p.stop) })
	p.mu.Lock()
	sl := p.workerSL
	p.mu.Unlock()
	if sl != nil {
		sl.Stop()
	}
}

// Wait runs the launcher and returns the exit status: in the parent, once
// every worker has ended (see ProcessLauncher); in a worker, when its
// service has.
func (p *ProcessLauncher) Wait() int {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		p.log.Error("service: Wait called twice")
		return ExitFailure
	}
	p.running = true
	p.mu.Unlock()
	if p.isWorker {
		return p.runWorker()
	}
	return p.supervise()
}

// runWorker runs the worker's service.
func (p *ProcessLauncher) runWorker() int {
	if p.workerSvc == nil {
		p.log.Error("service: this worker's service was not launched: the program must make the same LaunchService calls in its workers",
			"service", workerState.service, "launched", p.launched)
		return ExitNoRespawn
	}
	sl := NewServiceLauncher(p.opts)
	sl.worker = true
	sl.started = tellReady
	sl.services = []Service{p.workerSvc}
	p.mu.Lock()
	p.workerSL = sl
	p.mu.Unlock()
	select {
	case <-p.stop:
		sl.Stop()
	default:
	}
	return sl.Wait()
}

// newGeneration empties the slots for a new generation of workers.
func (w *wrap) newGeneration() {
	w.gen++
	w.slots = make([]*child, w.workers)
	w.begun = make([]bool, w.workers)
	w.abandoned = make([]bool, w.workers)
}

// emptySlot returns a slot of the current generation that wants a worker,
// or -1.
func (w *wrap) emptySlot() int {
	for i, c := range w.slots {
		if c == nil && !w.abandoned[i] {
			return i
		}
	}
	return -1
}

// complete reports whether every slot of the current generation has had a
// worker and that worker, if it still runs, has started its service (told
// the parent so on its ready pipe): a slot whose worker exited does not hold
// the generation back.
func (w *wrap) complete() bool {
	for i, b := range w.begun {
		if !b || (w.slots[i] != nil && !w.slots[i].ready) {
			return false
		}
	}
	return true
}

// supervisor is the parent's state, on the goroutine that called Wait.
type supervisor struct {
	p        *ProcessLauncher
	log      *slog.Logger
	exe      string
	pipeR    *os.File
	forks    chan forkReq
	exits    chan exitMsg
	readies  chan *child   // workers whose services have started
	done     chan struct{} // closed when supervise returns
	live     map[*child]struct{}
	stopping bool
	status   int
}

type forkReq struct {
	argv0 string
	argv  []string
	attr  *syscall.ProcAttr
	done  chan forkRes
}

type forkRes struct {
	pid int
	err error
}

func (p *ProcessLauncher) supervise() int {
	select {
	case <-p.stop:
		return ExitOK
	default:
	}
	if len(p.wraps) == 0 {
		p.log.Error("service: no service launched")
		return ExitFailure
	}
	exe, err := os.Executable()
	if err != nil {
		p.log.Error("service: cannot find the program to run as workers", "err", err)
		return ExitFailure
	}
	pipeR, pipeW, err := os.Pipe() // close-on-exec: workers get the read end only
	if err != nil {
		p.log.Error("service: pipe", "err", err)
		return ExitFailure
	}
	defer pipeW.Close()
	defer pipeR.Close()

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	s := &supervisor{
		p: p, log: p.log, exe: exe, pipeR: pipeR,
		forks: make(chan forkReq),
		exits: make(chan exitMsg), readies: make(chan *child), done: make(chan struct{}),
		live: map[*child]struct{}{},
	}
	defer close(s.done)
	// The forker: every worker is started from this goroutine, locked to
	// its OS thread until no worker is left, because Linux sends
	// Pdeathsig when the thread that forked ends, not the process.
	forkerDone := make(chan struct{})
	go func() {
		defer close(forkerDone)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for r := range s.forks {
			pid, err := syscall.ForkExec(r.argv0, r.argv, r.attr)
			r.done <- forkRes{pid, err}
		}
	}()
	defer func() {
		close(s.forks)
		<-forkerDone
	}()

	now := time.Now()
	for _, w := range p.wraps {
		p.log.Info("service: starting workers", "service", w.id, "workers", w.workers)
		s.fill(w, now)
	}
	stop := p.stop
	for {
		if len(s.live) == 0 {
			if s.stopping {
				s.log.Info("service: all workers have exited", "status", s.status)
				return s.status
			}
			if s.allAbandoned() {
				s.log.Error("service: every worker exited with ExitNoRespawn; exiting", "status", ExitNoRespawn)
				return ExitNoRespawn
			}
		}
		var due <-chan time.Time
		var t *time.Timer
		if next := s.nextDeadline(); !next.IsZero() {
			t = time.NewTimer(max(time.Until(next), 0))
			due = t.C
		}
		select {
		case sig := <-sigs:
			s.signal(sig.(syscall.Signal))
		case <-stop:
			stop = nil
			s.beginStop("Stop")
		case e := <-s.exits:
			s.exited(e)
		case c := <-s.readies:
			c.ready = true
			if _, alive := s.live[c]; alive && c.w.complete() {
				s.retire(c.w, time.Now())
			}
		case <-due:
		}
		if t != nil {
			t.Stop()
		}
		s.due(time.Now())
	}
}

// allAbandoned reports whether no worker can ever run again: every slot
// of every service gave up (ExitNoRespawn) and nothing is pending.
func (s *supervisor) allAbandoned() bool {
	for _, w := range s.p.wraps {
		if !w.pending.IsZero() {
			return false
		}
		for _, a := range w.abandoned {
			if !a {
				return false
			}
		}
	}
	return true
}

// nextDeadline returns the earliest pending start or SIGKILL bound.
func (s *supervisor) nextDeadline() time.Time {
	var next time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, w := range s.p.wraps {
		earlier(w.pending)
	}
	for c := range s.live {
		if !c.killed {
			earlier(c.killAt)
		}
	}
	return next
}

// due runs what is due at now: throttled starts and SIGKILL bounds.
func (s *supervisor) due(now time.Time) {
	for _, w := range s.p.wraps {
		if !w.pending.IsZero() && !now.Before(w.pending) {
			w.pending = time.Time{}
			if slot := w.emptySlot(); slot >= 0 && !s.stopping {
				s.start(w, slot, now) // after the pause, without looking again (oslo)
			}
			s.fill(w, now)
		}
	}
	for c := range s.live {
		if !c.killed && !c.killAt.IsZero() && !now.Before(c.killAt) {
			s.log.Warn("service: worker did not exit in time; killing it", "pid", c.pid, "service", c.w.id, "index", c.slot)
			s.kill(c)
		}
	}
}

// fill starts workers for the empty slots of w's current generation, as
// the throttle allows; a start it holds back is scheduled (w.pending).
func (s *supervisor) fill(w *wrap, now time.Time) {
	for !s.stopping && w.pending.IsZero() {
		slot := w.emptySlot()
		if slot < 0 {
			return
		}
		if d := w.throttle.delay(now); d > 0 {
			s.log.Info("service: forking too fast, pausing", "service", w.id, "pause", d.String())
			w.pending = now.Add(d)
			return
		}
		s.start(w, slot, now)
	}
}

// start starts a worker into slot of w's current generation.
func (s *supervisor) start(w *wrap, slot int, now time.Time) {
	w.throttle.record(now)
	// The descriptors are handed over raw (syscall.ForkExec), never through
	// os.File.Fd, which os/exec calls: Fd puts a descriptor in blocking
	// mode, and O_NONBLOCK belongs to the open file — the listening socket
	// shared with every worker, whose hubs would then block in accept(2)
	// when a sibling takes the connection first.
	readyR, readyW, err := os.Pipe()
	if err != nil {
		s.log.Error("service: cannot start a worker: ready pipe", "service", w.id, "index", slot, "err", err)
		return
	}
	defer readyW.Close() // the worker has its own copy
	fds := []uintptr{0, 1, 2}
	for _, f := range append(append([]*os.File{s.pipeR}, w.files...), readyW) {
		var fd uintptr
		if fd, err = rawFD(f); err != nil {
			break
		}
		fds = append(fds, fd)
	}
	var res forkRes
	if err == nil {
		done := make(chan forkRes, 1)
		s.forks <- forkReq{
			argv0: s.exe,
			argv:  os.Args,
			attr: &syscall.ProcAttr{
				Env:   workerEnv(os.Environ(), w.id, slot, len(w.files)),
				Files: fds,
				Sys:   sysProcAttr(),
			},
			done: done,
		}
		res = <-done
		err = res.err
	}
	runtime.KeepAlive(w.files)
	runtime.KeepAlive(readyW)
	var proc *os.Process
	if err == nil {
		proc, err = os.FindProcess(res.pid) // a child not waited for yet: its pid is its own
	}
	if err != nil {
		// Counted by the throttle: a start that keeps failing is retried
		// about once a second.
		s.log.Error("service: cannot start a worker", "service", w.id, "index", slot, "err", err)
		w.slots[slot] = nil
		readyR.Close()
		return
	}
	c := &child{w: w, proc: proc, pid: res.pid, slot: slot, gen: w.gen}
	w.slots[slot] = c
	w.begun[slot] = true
	s.live[c] = struct{}{}
	s.log.Info("service: worker started", "pid", c.pid, "service", w.id, "index", slot, "generation", c.gen)
	go func() {
		state, err := proc.Wait()
		s.exits <- exitMsg{c: c, state: state, err: err}
	}()
	go func() {
		defer readyR.Close()
		var b [1]byte
		if n, _ := readyR.Read(b[:]); n == 1 {
			select {
			case s.readies <- c:
			case <-s.done:
			}
		} // EOF: the worker ended before its service started; its exit tells
	}()
}

// retire sends SIGHUP to w's workers of older generations: the new
// generation is complete.
func (s *supervisor) retire(w *wrap, now time.Time) {
	for c := range s.live {
		if c.w == w && c.retired && !c.hupSent {
			c.hupSent = true
			s.log.Info("service: retiring an old worker", "pid", c.pid, "service", w.id, "index", c.slot, "generation", c.gen)
			s.signalChild(c, syscall.SIGHUP)
			s.bound(c, now)
		}
	}
}

// bound sets c's SIGKILL deadline from now, keeping an earlier one.
func (s *supervisor) bound(c *child, now time.Time) {
	if d := s.p.opts.killAfter(); d > 0 {
		if t := now.Add(d); c.killAt.IsZero() || t.Before(c.killAt) {
			c.killAt = t
		}
	}
}

func (s *supervisor) signalChild(c *child, sig syscall.Signal) {
	if err := c.proc.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.log.Warn("service: cannot signal a worker", "pid", c.pid, "signal", sig.String(), "err", err)
	}
}

func (s *supervisor) kill(c *child) {
	c.killed = true
	if s.stopping {
		s.status = ExitFailure
	}
	s.signalChild(c, syscall.SIGKILL)
}

// signal handles a signal to the parent.
func (s *supervisor) signal(sig syscall.Signal) {
	switch {
	case sig == syscall.SIGHUP && !s.stopping:
		s.log.Info("service: SIGHUP: starting a new generation of workers")
		now := time.Now()
		for _, w := range s.p.wraps {
			for c := range s.live {
				if c.w == w {
					c.retired = true
				}
			}
			w.newGeneration()
			w.pending = time.Time{}
			s.fill(w, now)
		}
	case sig == syscall.SIGHUP:
	case !s.stopping:
		s.beginStop(sig.String())
	default:
		s.log.Warn("service: second signal; killing the workers", "signal", sig.String())
		for c := range s.live {
			if !c.killed {
				s.kill(c)
			}
		}
	}
}

// beginStop sends SIGTERM to every worker.
func (s *supervisor) beginStop(why string) {
	if s.stopping {
		return
	}
	s.stopping = true
	s.status = ExitOK
	s.log.Info("service: stopping the workers", "why", why, "workers", len(s.live))
	now := time.Now()
	for _, w := range s.p.wraps {
		w.pending = time.Time{}
	}
	for c := range s.live {
		s.signalChild(c, syscall.SIGTERM)
		s.bound(c, now)
	}
}

// exited handles a worker's end.
func (s *supervisor) exited(e exitMsg) {
	c := e.c
	delete(s.live, c)
	w := c.w
	how := []any{"pid", c.pid, "service", w.id, "index", c.slot, "generation", c.gen}
	code := -1
	if e.state != nil {
		if ws, ok := e.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			how = append(how, "signal", ws.Signal().String())
		} else {
			code = e.state.ExitCode()
			how = append(how, "status", code)
		}
	} else {
		how = append(how, "err", e.err)
	}
	current := w.slots[c.slot] == c
	if current {
		w.slots[c.slot] = nil
	}
	switch {
	case s.stopping:
		s.log.Info("service: worker exited", how...)
	case !current:
		s.log.Info("service: old worker exited", how...)
	case code == ExitNoRespawn:
		s.log.Error("service: worker exited with ExitNoRespawn: it cannot recover; not respawning it", how...)
		w.abandoned[c.slot] = true
	default:
		s.log.Warn("service: worker exited; respawning it", how...)
		s.fill(w, time.Now())
	}
	if !s.stopping && w.complete() {
		s.retire(w, time.Now()) // the generation's last unready slot ended
	}
}

// rawFD returns f's descriptor without os.File.Fd's switch to blocking
// mode.
func rawFD(f *os.File) (uintptr, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var fd uintptr
	if err := rc.Control(func(d uintptr) { fd = d }); err != nil {
		return 0, err
	}
	return fd, nil
}
