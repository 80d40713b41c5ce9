package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/greenhub/greenhub/bench/internal/module"
)

// A server is one server of the comparison: an echo server, or an HTTP
// server of the HTTP mode.
type server struct {
	Name string // as in the tables and charts
	Desc string // one line for the table's legend
	// Exactly one of pkg (a Go main package, relative to the module root)
	// and script (a Python file under bench/peers) is set.
	pkg    string
	script string
	args   []string // after "-addr ADDR"
	env    []string
	// module is what a Python server needs to import; by default the
	// name's part before its first "-".
	module string
	// ready, if set, is a log line's text the server prints readyN times
	// once every process and hub of it serves: a server spreading
	// connections over several listeners must not get its load before the
	// last one listens, or the first ones keep it all.
	ready  string
	readyN int

	bin  string // built binary, or the Python interpreter
	skip string // why it is skipped, if it is
}

// greenhubName is the reference every ratio is taken against.
const greenhubName = "greenhub"

// echoReady is what examples/echo logs once a process serves on all its
// hubs (with -workers N, the parent first, then each worker).
const echoReady = `msg="echo: listening"`

// servers returns the comparison's servers, greenhub first. n is the number
// of CPUs used for the many-core variants.
func servers(n int) []*server {
	ns := fmt.Sprint(n)
	return []*server{
		{Name: greenhubName, Desc: "greenhub examples/echo, one hub", pkg: "./examples/echo",
			args: []string{"-hubs", "1"}, ready: echoReady, readyN: 1},
		{Name: greenhubMultiName(n), Desc: "greenhub examples/echo, one hub per CPU, a SO_REUSEPORT listener per hub", pkg: "./examples/echo",
			args: []string{"-hubs", ns, "-spread", "reuseport"}, ready: echoReady, readyN: 1},
		{Name: greenhubMultiName(n) + "-handoff", Desc: "greenhub examples/echo, one hub per CPU, hub 0 accepting and dealing connections round robin (AcceptTo)", pkg: "./examples/echo",
			args: []string{"-hubs", ns, "-spread", "handoff"}, ready: echoReady, readyN: 1},
		{Name: "greenhub-" + ns + "workers", Desc: "greenhub examples/echo, one worker process per CPU (service.ProcessLauncher), each of one hub with its own SO_REUSEPORT listener", pkg: "./examples/echo",
			args: []string{"-workers", ns}, ready: echoReady, readyN: 1 + n},
		{Name: "gnet-1loop", Desc: "gnet v2, one event loop", pkg: "./bench/peers/gnetecho",
			args: []string{"-loops", "1"}},
		{Name: "gnet-" + ns + "loops", Desc: "gnet v2, one event loop per CPU", pkg: "./bench/peers/gnetecho",
			args: []string{"-loops", ns}},
		{Name: "stdlib-P1", Desc: "stdlib net, goroutine per connection, GOMAXPROCS=1", pkg: "./bench/peers/stdecho",
			env: []string{"GOMAXPROCS=1"}},
		{Name: "stdlib-P" + ns, Desc: "stdlib net, goroutine per connection, GOMAXPROCS=" + ns, pkg: "./bench/peers/stdecho",
			env: []string{"GOMAXPROCS=" + ns}},
		{Name: "eventlet", Desc: "Python eventlet: listen, GreenPool(10000), spawn_n", script: "bench/peers/eventlet_echo.py"},
		{Name: "gevent", Desc: "Python gevent StreamServer", script: "bench/peers/gevent_echo.py"},
	}
}

// selectServers keeps the servers whose name starts with one of the
// comma-separated prefixes in filter ("" keeps all).
func selectServers(all []*server, filter string) []*server {
	if filter == "" {
		return all
	}
	var out []*server
	for _, s := range all {
		for _, f := range strings.Split(filter, ",") {
			if f = strings.TrimSpace(f); f != "" && strings.HasPrefix(s.Name, f) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) { return module.Root(ctx, "compare") }

// goBuild builds the main package pkg of the module at root into dir and
// returns the binary's path.
func goBuild(ctx context.Context, root, dir, pkg string) (string, error) {
	bin := filepath.Join(dir, strings.ReplaceAll(strings.Trim(pkg, "./"), "/", "_"))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}

// prepare builds the Go servers (each package once) and checks that Python
// has the modules the Python servers need, setting skip on those that
// cannot run.
func prepare(ctx context.Context, root, dir, python string, ss []*server) {
	built := map[string]string{}
	failed := map[string]string{}
	for _, s := range ss {
		switch {
		case s.pkg != "":
			if bin, ok := built[s.pkg]; ok {
				s.bin = bin
				continue
			}
			if why, ok := failed[s.pkg]; ok {
				s.skip = why
				continue
			}
			if _, err := os.Stat(filepath.Join(root, s.pkg)); err != nil {
				failed[s.pkg] = s.pkg + " does not exist yet"
				s.skip = failed[s.pkg]
				continue
			}
			bin, err := goBuild(ctx, root, dir, s.pkg)
			if err != nil {
				failed[s.pkg] = err.Error()
				s.skip = failed[s.pkg]
				continue
			}
			built[s.pkg] = bin
			s.bin = bin
		case s.script != "":
			mod := s.module
			if mod == "" {
				mod = strings.SplitN(s.Name, "-", 2)[0]
			}
			if err := pythonHas(ctx, python, mod); err != nil {
				deb := "python3-" + strings.SplitN(mod, ".", 2)[0]
				s.skip = fmt.Sprintf("%s cannot import %s (Debian: apt-get install %s): %v", python, mod, deb, err)
				continue
			}
			s.bin = python
		}
	}
}

func pythonHas(ctx context.Context, python, module string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", "import "+module).CombinedOutput()
	if err != nil {
		if len(out) > 0 {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			return fmt.Errorf("%s", lines[len(lines)-1])
		}
		return err
	}
	return nil
}

// greenhubMultiName is the name of greenhub with one hub per CPU, n CPUs:
// the reference of issue 12's goals.
func greenhubMultiName(n int) string { return fmt.Sprintf("greenhub-%dhubs", n) }

// start starts s listening on addr and waits until it accepts (and, if it
// says how, until it serves on every hub).
func (s *server) start(ctx context.Context, root, addr string) (*process, error) {
	args := []string{"-addr", addr}
	if s.script != "" {
		args = append([]string{filepath.Join(root, s.script)}, args...)
	}
	args = append(args, s.args...)
	p, err := startProcess(s.Name, s.bin, args, s.env)
	if err != nil {
		return nil, err
	}
	if err := p.waitAccepting(ctx, addr, 20*time.Second); err != nil {
		p.stop(time.Second)
		return nil, err
	}
	if s.ready != "" {
		if err := p.waitLogged(ctx, s.ready, s.readyN, 20*time.Second); err != nil {
			p.stop(time.Second)
			return nil, err
		}
	}
	return p, nil
}

// numCPU is the CPU count the many-core variants use.
func numCPU() int { return runtime.NumCPU() }
