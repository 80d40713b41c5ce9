package greenhttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/greenhub/greenhub/greenhttp"
	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

// startServer runs srv on a new hub listening on loopback and returns its
// address and what the hub's Run returns.
func startServer(h *hub.Hub, srv *greenhttp.Server) (string, <-chan error) {
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- h.Run(func() error {
			l, err := netio.Listen(h, "tcp", "127.0.0.1:0")
			if err != nil {
				close(addr)
				return err
			}
			addr <- l.Addr().String()
			return srv.Serve(l)
		})
	}()
	return <-addr, done
}

// A Server serves an http.Handler on a hub; the handler sleeps greenly, so
// other connections are served meanwhile.
func ExampleServer() {
	h := hub.New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		greenthread.Sleep(h, 10*time.Millisecond) // parks this green thread only
		fmt.Fprintf(w, "Hello, %s!", r.PathValue("name"))
	})
	srv := &greenhttp.Server{Handler: mux}
	addr, done := startServer(h, srv)

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/hello/gopher")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"), resp.ContentLength)
	fmt.Println(string(body))

	srv.Close() // any goroutine may stop the server
	err = <-done
	fmt.Println(errors.Is(err, greenhttp.ErrServerClosed))
	// Output:
	// 200 OK text/plain; charset=utf-8 14
	// Hello, gopher!
	// true
}

// Shutdown, called here from a plain goroutine as a signal handler would,
// lets the request in flight finish before the server stops. Run kills the
// green threads left when main returns, so main waits for the drain.
func ExampleServer_Shutdown() {
	h := hub.New()
	inFlight := make(chan struct{})
	srv := &greenhttp.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inFlight)
		greenthread.Sleep(h, 50*time.Millisecond)
		io.WriteString(w, "finished")
	})}
	addrs := make(chan string, 1)
	drained := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		done <- h.Run(func() error {
			l, err := netio.Listen(h, "tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			addrs <- l.Addr().String()
			if err := srv.Serve(l); !errors.Is(err, greenhttp.ErrServerClosed) {
				return err
			}
			err, _, rerr := greensync.Recv(h, drained) // wait for Shutdown
			return errors.Join(err, rerr)
		})
	}()
	addr := <-addrs

	answer := make(chan string)
	go func() {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			answer <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer <- fmt.Sprintf("%s %q, Connection: close %v", resp.Status, body, resp.Close)
	}()

	<-inFlight
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	drained <- err
	fmt.Println("Shutdown:", err)
	fmt.Println(<-answer)
	fmt.Println("Run:", <-done)
	// Output:
	// Shutdown: <nil>
	// 200 OK "finished", Connection: close true
	// Run: <nil>
}
