package greenhttp

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestSmoke(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "Hello, World!")
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	})
	s := serve(t, &Server{Handler: mux})
	cl := client(t)
	for i := 0; i < 3; i++ {
		resp, err := cl.Get(s.url + "/hello")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "Hello, World!" || resp.ContentLength != 13 {
			t.Fatalf("got %q %d %v", b, resp.ContentLength, resp.Header)
		}
	}
	big := strings.Repeat("x", 100000)
	resp, err := cl.Post(s.url+"/echo", "text/plain", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != big {
		t.Fatalf("echo: %d bytes, te %v", len(b), resp.TransferEncoding)
	}
}
