package greenhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

// slowMux serves /hello, /echo, and /slow, which sleeps (green) for the
// duration in ?d= and then answers.
func slowMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "Hello, World!") })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) { io.Copy(w, r.Body) })
	return mux
}

func TestClient(t *testing.T) {
	mux := slowMux()
	var s *served
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		greenthread.Sleep(s.h, d)
		io.WriteString(w, "late")
	})
	// /proxy sends its own request body on to /echo with the green client,
	// and answers with what came back: a green body read by the client's
	// goroutine, and a goroutine body read by a green thread.
	mux.HandleFunc("/proxy", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, s.url+"/echo", r.Body)
		resp, err := NewClient(s.h, nil).Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	})
	s = serve(t, &Server{Handler: mux})
	hc := client(t)
	c := NewClient(s.h, hc)

	tests := []struct {
		name string
		do   func() (string, error)
		want string
	}{
		{"get from the same hub", func() (string, error) {
			resp, err := c.Get(s.url + "/hello")
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return string(b), err
		}, "Hello, World!"},
		{"proxy a green body", func() (string, error) {
			body := strings.Repeat("greenhub ", 50000)
			resp, err := c.Post(s.url+"/proxy", "text/plain", io.MultiReader(strings.NewReader(body)))
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if string(b) != body {
				return "", errors.New("proxied body differs")
			}
			return "ok", err
		}, "ok"},
		{"context deadline", func() (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/slow?d=10s", nil)
			_, err := c.Do(req)
			if !errors.Is(err, context.DeadlineExceeded) {
				return "", err
			}
			return "deadline", nil
		}, "deadline"},
		{"green timeout", func() (string, error) {
			to, _ := greensync.StartTimeout(s.h, 50*time.Millisecond)
			defer to.Cancel()
			_, err := c.Get(s.url + "/slow?d=10s")
			if !errors.Is(err, greensync.ErrTimeout) {
				return "", err
			}
			return "timeout", nil
		}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				v   string
				err error
			}
			got := onHub(t, s, func() result {
				v, err := tt.do()
				return result{v, err}
			})
			if got.err != nil || got.v != tt.want {
				t.Fatalf("got %q, %v; want %q", got.v, got.err, tt.want)
			}
		})
	}
}

func TestClientOutsideHub(t *testing.T) {
	s := serve(t, &Server{Handler: slowMux()})
	if _, err := NewClient(s.h, nil).Get(s.url + "/hello"); !errors.Is(err, hub.ErrOutside) {
		t.Fatalf("Get from a plain goroutine: %v, want an error matching hub.ErrOutside", err)
	}
}
