//go:build linux

package netio

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"golang.org/x/sys/unix"
)

// TestEMFILE runs the file-descriptor exhaustion scenario in a child
// process (this test binary again) with a low RLIMIT_NOFILE: the child
// fills its fd table, checks that an existing connection is still served
// while accept fails, that the failure is logged once and accept(2) is not
// retried in a loop, frees the fds and checks that the pending connection
// is then accepted and served.
func TestEMFILE(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), emfileChildEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || !strings.Contains(out.String(), "EMFILE-CHILD-OK") {
			t.Fatalf("child failed: %v\n%s", err, out.String())
		}
		t.Logf("child:\n%s", out.String())
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("child did not finish:\n%s", out.String())
	}
}

// emfileChild is the child's whole program; its exit status is the
// verdict.
func emfileChild() int {
	// The Go runtime creates its own epoll and eventfd at its first
	// timer; let that happen before the fd table is filled.
	time.NewTimer(time.Hour).Stop()
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 128, Max: 128}); err != nil {
		fmt.Println("setrlimit:", err)
		return 1
	}
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	var accepts, emfiles int
	sysAccept0 := sysAccept
	sysAccept = func(fd int) (int, unix.Sockaddr, error) {
		accepts++
		nfd, sa, err := sysAccept0(fd)
		if err == unix.EMFILE {
			emfiles++
		}
		return nfd, sa, err
	}
	h := hub.New(hub.WithLogger(logger))
	err := h.Run(func() error {
		l, srv, err := startEcho(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Stop()
		first, err := Dial(h, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer first.Close()
		buf := make([]byte, 64)
		if err := roundTrip(first, []byte("before"), buf); err != nil {
			return err
		}
		// A socket for the client that will wait in the backlog.
		pending, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		// Fill the table.
		var filler []int
		defer func() {
			for _, fd := range filler {
				unix.Close(fd)
			}
		}()
		for {
			fd, err := unix.Dup(0)
			if err == unix.EMFILE {
				break
			}
			if err != nil {
				return fmt.Errorf("dup: %w", err)
			}
			filler = append(filler, fd)
		}
		// Connect: the kernel completes the handshake from the backlog,
		// the server's accept fails with EMFILE.
		port := l.Addr().(*net.TCPAddr).Port
		if err := unix.Connect(pending, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		// The existing connection is still served, again and again,
		// while accept keeps failing for 300ms.
		start := time.Now()
		for time.Since(start) < 300*time.Millisecond {
			if err := roundTrip(first, []byte("during"), buf); err != nil {
				return fmt.Errorf("existing connection during EMFILE: %w", err)
			}
			if err := h.Raw().Sleep(10 * time.Millisecond); err != nil {
				return err
			}
		}
		if emfiles == 0 {
			return fmt.Errorf("accept never failed with EMFILE (%d accepts)", accepts)
		}
		if accepts > 30 {
			return fmt.Errorf("accept(2) called %d times in 300ms of EMFILE: a busy loop", accepts)
		}
		if n := strings.Count(logs.String(), "out of resources"); n != 1 {
			return fmt.Errorf("EMFILE logged %d times, want once:\n%s", n, logs.String())
		}
		// Free the fds: the pending connection is accepted and served.
		for _, fd := range filler {
			unix.Close(fd)
		}
		filler = nil
		if err := unix.SetNonblock(pending, true); err != nil {
			return err
		}
		f := os.NewFile(uintptr(pending), "pending")
		pc, err := FileConn(h, f)
		f.Close()
		if err != nil {
			return err
		}
		defer pc.Close()
		pc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := roundTrip(pc, []byte("after"), buf); err != nil {
			return fmt.Errorf("the connection that waited: %w", err)
		}
		if !strings.Contains(logs.String(), "accepting again") {
			return fmt.Errorf("recovery not logged:\n%s", logs.String())
		}
		fmt.Printf("accept calls %d, EMFILE %d\n%s", accepts, emfiles, logs.String())
		return nil
	})
	if err != nil {
		fmt.Println("child:", err)
		return 1
	}
	fmt.Println("EMFILE-CHILD-OK")
	return 0
}
