package service

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The environment of a worker process, set by its ProcessLauncher parent
// and removed by Worker, so that the worker's own child processes are not
// taken for workers.
const (
	// EnvWorker holds the worker's index, 0 to workers-1: the slot it
	// fills (its replacement gets the same one).
	EnvWorker = "GREENHUB_SERVICE_WORKER"
	// EnvService holds which LaunchService call of the program the worker
	// runs, counting from 0.
	EnvService = "GREENHUB_SERVICE_ID"
	// EnvFiles holds how many files the worker inherits, from descriptor
	// 4 on.
	EnvFiles = "GREENHUB_SERVICE_FILES"
	// EnvReady holds the descriptor on which the worker tells the parent
	// its service has started (the descriptor after the files); a worker
	// started without it tells nobody.
	EnvReady = "GREENHUB_SERVICE_READY"
)

// The descriptors of a worker: the read end of the parent's pipe, then the
// files given to LaunchService, then the write end of the worker's ready
// pipe (one byte on it tells the parent the service has started).
const (
	parentPipeFD = 3
	firstFileFD  = 4
)

// workerState is what Worker found, once per process.
var workerState struct {
	once    sync.Once
	ok      bool
	index   int
	service int
	files   []*os.File
	ready   *os.File // the ready pipe's write end, until the service started

	mu      sync.Mutex
	dead    bool   // the parent's pipe reached EOF
	onDeath func() // the running launcher's reaction
}

// Worker reports whether this process is a worker started by a
// ProcessLauncher and, if so, its index (0 to workers-1) and the files it
// inherited, in the order given to LaunchService: typically listening
// sockets, for netio.FileListener. Call it early in main, before the
// program does what only the parent does (listening, say), and before any
// goroutine starts other programs: the first call reads and removes the
// worker's environment variables, makes the inherited descriptors
// close-on-exec, ignores SIGINT (a ^C at the terminal reaches every process
// of its group; only the parent acts on it, so that a worker is not
// respawned for nothing) and starts watching the parent (see
// ProcessLauncher). Later calls return the same. NewProcessLauncher calls
// it too. Any goroutine may call it.
func Worker() (index int, files []*os.File, ok bool) {
	workerState.once.Do(initWorker)
	return workerState.index, workerState.files, workerState.ok
}

func initWorker() {
	idx, isWorker := os.LookupEnv(EnvWorker)
	if !isWorker {
		return
	}
	svc, nfiles, ready := os.Getenv(EnvService), os.Getenv(EnvFiles), os.Getenv(EnvReady)
	for _, k := range []string{EnvWorker, EnvService, EnvFiles, EnvReady} {
		os.Unsetenv(k)
	}
	index, err1 := strconv.Atoi(idx)
	service, err2 := strconv.Atoi(svc)
	n, err3 := strconv.Atoi(nfiles)
	if err1 != nil || err2 != nil || err3 != nil || index < 0 || service < 0 || n < 0 {
		slog.Error("service: malformed worker environment; running as a plain process",
			EnvWorker, idx, EnvService, svc, EnvFiles, nfiles)
		return
	}
	signal.Ignore(syscall.SIGINT)
	files := make([]*os.File, n)
	for i := range files {
		fd := firstFileFD + i
		syscall.CloseOnExec(fd)
		files[i] = os.NewFile(uintptr(fd), "greenhub-inherited-"+strconv.Itoa(i))
	}
	workerState.ok, workerState.index, workerState.service, workerState.files = true, index, service, files
	if fd, err := strconv.Atoi(ready); err == nil && fd == firstFileFD+n {
		syscall.CloseOnExec(fd)
		workerState.ready = os.NewFile(uintptr(fd), "greenhub-ready-pipe")
	}

	// The parent's pipe: nobody ever writes to it; EOF means that the
	// parent's end was closed, which happens when the parent dies (oslo's
	// writepipe). Non-blocking, so that the read waits in Go's poller
	// rather than holding an OS thread.
	syscall.CloseOnExec(parentPipeFD)
	if err := syscall.SetNonblock(parentPipeFD, true); err != nil {
		slog.Error("service: the parent's pipe is missing; not watching the parent", "err", err)
		return
	}
	pipe := os.NewFile(parentPipeFD, "greenhub-parent-pipe")
	go func() {
		var b [1]byte
		for {
			if _, err := pipe.Read(b[:]); err != nil {
				break
			}
		}
		parentDied()
	}()
}

// tellReady tells the parent that the worker's service has started: its
// listeners are open, so that the parent may retire the workers this one
// replaces (SIGHUP) without a connection being refused in between.
func tellReady() {
	if f := workerState.ready; f != nil {
		workerState.ready = nil
		f.Write([]byte{1})
		f.Close()
	}
}

// parentDied runs when the parent's pipe reaches EOF: the launcher running
// the worker's service, if any, forces its stop (oslo: stop and exit 1);
// whatever happens, the process exits within a second or so.
func parentDied() {
	workerState.mu.Lock()
	workerState.dead = true
	f := workerState.onDeath
	workerState.mu.Unlock()
	if f == nil {
		slog.Error("service: the parent process died; exiting")
		os.Exit(ExitFailure)
	}
	f()
	time.AfterFunc(forceWait+forceWait/2, func() {
		slog.Error("service: the parent process died and the services did not stop; exiting")
		os.Exit(ExitFailure)
	})
}

// watchParent makes f the reaction to the parent's death until the
// returned function is called; if the parent has died already, f runs at
// once.
func watchParent(f func()) (unwatch func()) {
	workerState.mu.Lock()
	dead := workerState.dead
	workerState.onDeath = f
	workerState.mu.Unlock()
	if dead {
		f()
	}
	return func() {
		workerState.mu.Lock()
		workerState.onDeath = nil
		workerState.mu.Unlock()
	}
}

// workerEnv returns env without the worker variables, plus those of
// worker index of service svc inheriting n files.
func workerEnv(env []string, svc, index, n int) []string {
	out := make([]string, 0, len(env)+4)
	for _, kv := range env {
		if hasKey(kv, EnvWorker) || hasKey(kv, EnvService) || hasKey(kv, EnvFiles) || hasKey(kv, EnvReady) {
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		fmt.Sprintf("%s=%d", EnvWorker, index),
		fmt.Sprintf("%s=%d", EnvService, svc),
		fmt.Sprintf("%s=%d", EnvFiles, n),
		fmt.Sprintf("%s=%d", EnvReady, firstFileFD+n))
}

func hasKey(kv, k string) bool { return len(kv) > len(k) && kv[len(k)] == '=' && kv[:len(k)] == k }
