package main

import (
	"fmt"
	"io"
	"net"
	"regexp"
	"syscall"
	"time"

	"github.com/greenhub/greenhub/examples/internal/logsink"
)

// A session: a client sends two lines and closes its side; the server
// answers each in upper case, and SIGTERM (sent here to this process,
// where the server's NotifySignal takes it) stops it with exit status 0.
func Example() {
	log := logsink.New()
	exit := make(chan int, 1)
	go func() { exit <- run([]string{"-addr", "127.0.0.1:0"}, log) }()
	if !log.WaitFor("lineserver: listening", 1, time.Minute) {
		fmt.Print(log)
		return
	}
	addr := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(log.String())[1]

	c, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Fprint(c, "hello\nworld\n")
	c.(*net.TCPConn).CloseWrite()
	answers, err := io.ReadAll(c) // until the server closes the connection
	fmt.Printf("%s%v\n", answers, err)

	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	fmt.Println("exit status", <-exit)
	// Output:
	// HELLO
	// WORLD
	// <nil>
	// exit status 0
}
