package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// The test binary plays a server with a worker process when this variable
// names a role: "leader" starts a "burner" and says "ready" once the
// burner has used burnCPU of CPU; both wait for their stdin to end.
const procHelperEnv = "COMPARE_PROC_HELPER"

const burnCPU = 300 * time.Millisecond

// procHelper runs the role named by procHelperEnv, if any, and reports
// whether it did.
func procHelper() bool {
	switch os.Getenv(procHelperEnv) {
	case "leader":
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), procHelperEnv+"=burner")
		cmd.Stdin = os.Stdin
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			fmt.Println("error:", err)
			return true
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		fmt.Print(line)
		io.Copy(io.Discard, os.Stdin)
		cmd.Wait()
		return true
	case "burner":
		for {
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			if time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= burnCPU {
				break
			}
		}
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		return true
	}
	return false
}

// TestProcGroup checks that a server's CPU time and RSS include its worker
// processes: those of the process group it leads.
func TestProcGroup(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), procHelperEnv+"=leader")
	cmd.SysProcAttr = sysProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // both helpers end at their stdin's EOF
		cmd.Wait()
	}()
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if line != "ready\n" {
			t.Fatalf("helper said %q", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the helper did not burn its CPU in 30s")
	}

	pid := cmd.Process.Pid
	own, err := readStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	user, sys, err := cpuTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	const tick = time.Second / userHZ
	ownCPU := time.Duration(own.utime+own.stime) * tick
	if got := user + sys - ownCPU; got < burnCPU-2*tick {
		t.Errorf("group CPU %v, leader's own %v: the worker's %v is missing", user+sys, ownCPU, burnCPU)
	}
	if members := groupMembers(pid); len(members) != 2 {
		t.Errorf("group members %v, want the leader and its worker", members)
	}
	all, err1 := rss(pid)
	one, err2 := rss1(pid)
	if err1 != nil || err2 != nil || all <= one {
		t.Errorf("group RSS %d (%v), leader's %d (%v)", all, err1, one, err2)
	}
}
