package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/greenhub/greenhub/examples/internal/logsink"
	"github.com/greenhub/greenhub/greenhttp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait of the tests.
const wait = 30 * time.Second

// server is run() going in this process, on a free port.
type server struct {
	addr, url, data string
	log             *logsink.Sink
	exit            chan int
	signaled        bool
	exited          bool
	code            int
}

var listening = regexp.MustCompile(`msg="wsgi: listening" addr=(\S+) data=(\S+)`)

// start runs the program with args on 127.0.0.1:0 and stops it (SIGTERM)
// when the test ends if the test did not.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{log: logsink.New(), exit: make(chan int, 1)}
	go func() { s.exit <- run(append([]string{"-addr", "127.0.0.1:0"}, args...), s.log) }()
	m := s.log.Await(t, listening, wait)
	s.addr, s.data, s.url = m[1], m[2], "http://"+m[1]
	t.Cleanup(func() { s.stop(t) })
	return s
}

// signal sends SIGTERM to the process, once; run's signal.Notify takes it.
func (s *server) signal(t *testing.T) {
	t.Helper()
	if s.signaled {
		return
	}
	s.signaled = true
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// wait returns run's exit status.
func (s *server) wait(t *testing.T) int {
	t.Helper()
	if !s.exited {
		select {
		case s.code = <-s.exit:
			s.exited = true
		case <-time.After(wait):
			t.Fatalf("run did not return after SIGTERM:\n%s", s.log)
		}
	}
	return s.code
}

// stop sends SIGTERM and returns run's exit status.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	s.signal(t)
	return s.wait(t)
}

// client returns an HTTP client for the test. It waits for 100 Continue
// before sending the body of a request that asks for it.
func client(t *testing.T) *http.Client {
	tr := &http.Transport{DisableCompression: true, ExpectContinueTimeout: wait}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: wait}
}

// record is an image record as the API sends it.
type record struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Size      *int64  `json:"size"`
	Checksum  *string `json:"checksum"`
	Status    string  `json:"status"`
	CreatedAt string  `json:"created_at"`
}

// do sends a request and returns the answer with its body read.
func do(t *testing.T, cl *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL.Path, err)
	}
	return resp, b
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// expect sends a request, checks its status and decodes a JSON answer into
// into (if not nil).
func expect(t *testing.T, cl *http.Client, req *http.Request, status int, into any) []byte {
	t.Helper()
	resp, b := do(t, cl, req)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %s, want %d: %s", req.Method, req.URL.Path, resp.Status, status, b)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s %s: %v: %s", req.Method, req.URL.Path, err, b)
		}
	}
	return b
}

func create(t *testing.T, cl *http.Client, s *server, name string) record {
	t.Helper()
	var r record
	expect(t, cl, newRequest(t, "POST", s.url+"/v2/images", strings.NewReader(`{"name": `+strconv.Quote(name)+`}`)), http.StatusCreated, &r)
	if r.ID == "" || r.Name != name || r.Status != "queued" || r.Size != nil || r.Checksum != nil || r.CreatedAt == "" {
		t.Fatalf("created %+v", r)
	}
	return r
}

// payload is n deterministic pseudo-random bytes and their hex SHA-256.
func payload(n int, seed uint64) ([]byte, string) {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

// hideLength hides a reader's length from net/http, which then sends the
// body chunked.
type hideLength struct{ io.Reader }

// TestImageAPI is the API's whole life: create, upload (with a length,
// chunked, empty), metadata, list, download, the error answers, delete,
// and SIGTERM, after which the default data directory is gone.
func TestImageAPI(t *testing.T) {
	const maxImage = 6 << 20
	s := start(t, "-max-image", strconv.Itoa(maxImage))
	cl := client(t)

	uploads := []struct {
		name    string
		size    int
		chunked bool
	}{
		{"five MiB", 5 << 20, false},
		{"chunked", 3<<20 + 17, true},
		{"empty", 0, false},
		{"exactly the limit", maxImage, true},
	}
	var images []record
	data := map[string][]byte{}
	for i, u := range uploads {
		t.Run("upload "+u.name, func(t *testing.T) {
			img := create(t, cl, s, u.name)
			body, sum := payload(u.size, uint64(i))
			var r io.Reader = bytes.NewReader(body)
			if u.chunked {
				r = hideLength{r}
			}
			req := newRequest(t, "PUT", s.url+"/v2/images/"+img.ID+"/file", r)
			req.Header.Set("Content-Type", "application/octet-stream")
			var got record
			expect(t, cl, req, http.StatusOK, &got)
			if got.Status != "active" || got.Size == nil || *got.Size != int64(u.size) || got.Checksum == nil || *got.Checksum != sum {
				t.Fatalf("after the upload: %+v, want active, %d bytes, %s", got, u.size, sum)
			}
			// The metadata says the same.
			var meta record
			expect(t, cl, newRequest(t, "GET", s.url+"/v2/images/"+img.ID, nil), http.StatusOK, &meta)
			if meta.Status != "active" || *meta.Size != int64(u.size) || *meta.Checksum != sum || meta.CreatedAt != img.CreatedAt {
				t.Fatalf("metadata %+v", meta)
			}
			// The download is byte-exact, with a Content-Length.
			resp, b := do(t, cl, newRequest(t, "GET", s.url+"/v2/images/"+img.ID+"/file", nil))
			if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(u.size) || len(resp.TransferEncoding) > 0 || !bytes.Equal(b, body) {
				t.Fatalf("download: %s, Content-Length %d, Transfer-Encoding %v, %d bytes, equal %v",
					resp.Status, resp.ContentLength, resp.TransferEncoding, len(b), bytes.Equal(b, body))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
				t.Errorf("download Content-Type %q", ct)
			}
			// HEAD: the length, no body.
			resp, b = do(t, cl, newRequest(t, "HEAD", s.url+"/v2/images/"+img.ID+"/file", nil))
			if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(u.size) || len(b) != 0 {
				t.Fatalf("HEAD: %s, Content-Length %d, %d bytes", resp.Status, resp.ContentLength, len(b))
			}
			images = append(images, got)
			data[img.ID] = body
		})
	}
	if t.Failed() {
		t.FailNow()
	}
	queued := create(t, cl, s, "never uploaded")
	images = append(images, queued)

	t.Run("list", func(t *testing.T) {
		var list struct{ Images []record }
		expect(t, cl, newRequest(t, "GET", s.url+"/v2/images", nil), http.StatusOK, &list)
		if len(list.Images) != len(images) {
			t.Fatalf("listed %d images, want %d: %+v", len(list.Images), len(images), list.Images)
		}
		for i, got := range list.Images {
			want := images[i]
			if got.ID != want.ID || got.Name != want.Name || got.Status != want.Status ||
				(want.Checksum != nil) != (got.Checksum != nil) || (want.Checksum != nil && *got.Checksum != *want.Checksum) {
				t.Errorf("image %d: %+v, want %+v", i, got, want)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		active := images[0].ID
		tooBig := int64(maxImage + 1)
		cases := []struct {
			name, method, path string
			body               io.Reader
			length             int64 // for the body: -1 sends it chunked
			expect100          bool
			want               int
		}{
			{"metadata of an unknown image", "GET", "/v2/images/nope", nil, 0, false, 404},
			{"data of an unknown image", "GET", "/v2/images/nope/file", nil, 0, false, 404},
			{"upload to an unknown image", "PUT", "/v2/images/nope/file", strings.NewReader("x"), 1, false, 404},
			{"delete an unknown image", "DELETE", "/v2/images/nope", nil, 0, false, 404},
			{"upload again", "PUT", "/v2/images/" + active + "/file", strings.NewReader("again"), 5, false, 409},
			{"upload again, 100-continue", "PUT", "/v2/images/" + active + "/file", bytes.NewReader(data[active]), int64(len(data[active])), true, 409},
			{"data not uploaded yet", "GET", "/v2/images/" + queued.ID + "/file", nil, 0, false, 204},
			{"too large, by Content-Length", "PUT", "/v2/images/" + queued.ID + "/file", io.LimitReader(zeros{}, tooBig), tooBig, true, 413},
			{"too large, chunked", "PUT", "/v2/images/" + queued.ID + "/file", io.LimitReader(zeros{}, tooBig), -1, false, 413},
			{"create without a name", "POST", "/v2/images", strings.NewReader(`{"size": 3}`), 11, false, 400},
			{"create with broken JSON", "POST", "/v2/images", strings.NewReader(`{"name": `), 9, false, 400},
			{"create with a long name", "POST", "/v2/images", strings.NewReader(`{"name": "` + strings.Repeat("n", 256) + `"}`), 268, false, 400},
			{"a method the resource lacks", "PATCH", "/v2/images/" + active, nil, 0, false, 405},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				req := newRequest(t, c.method, s.url+c.path, c.body)
				req.ContentLength = c.length
				if c.expect100 {
					req.Header.Set("Expect", "100-continue")
				}
				b := expect(t, cl, req, c.want, nil)
				if c.want >= 400 && c.want != 405 {
					var e struct {
						Error struct {
							Code    int
							Message string
						}
					}
					if err := json.Unmarshal(b, &e); err != nil || e.Error.Code != c.want || e.Error.Message == "" {
						t.Errorf("error body %s (%v)", b, err)
					}
				}
			})
		}
		// The failed uploads left the image queued and no file behind.
		var meta record
		expect(t, cl, newRequest(t, "GET", s.url+"/v2/images/"+queued.ID, nil), http.StatusOK, &meta)
		if meta.Status != "queued" || meta.Size != nil {
			t.Errorf("after the failed uploads: %+v", meta)
		}
		if _, err := os.Stat(filepath.Join(s.data, queued.ID+".part")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("partial upload left behind: %v", err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		for _, img := range images {
			expect(t, cl, newRequest(t, "DELETE", s.url+"/v2/images/"+img.ID, nil), http.StatusNoContent, nil)
			expect(t, cl, newRequest(t, "GET", s.url+"/v2/images/"+img.ID, nil), http.StatusNotFound, nil)
			expect(t, cl, newRequest(t, "GET", s.url+"/v2/images/"+img.ID+"/file", nil), http.StatusNotFound, nil)
		}
		entries, err := os.ReadDir(s.data)
		if err != nil || len(entries) != 0 {
			t.Errorf("data directory after the deletes: %v %v", entries, err)
		}
		var list struct{ Images []record }
		expect(t, cl, newRequest(t, "GET", s.url+"/v2/images", nil), http.StatusOK, &list)
		if len(list.Images) != 0 {
			t.Errorf("listed after the deletes: %+v", list.Images)
		}
	})

	if code := s.stop(t); code != 0 {
		t.Fatalf("exit status %d:\n%s", code, s.log)
	}
	if _, err := os.Stat(s.data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary data directory %s outlived the program: %v", s.data, err)
	}
	for _, want := range []string{`status=201`, `request="PUT /v2/images/`, "shutdown complete"} {
		if !strings.Contains(s.log.String(), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestSIGTERMDrainsUpload sends SIGTERM while an upload is in flight: the
// server stops accepting and closes its idle connections at once, but the
// upload runs to its end, answered with Connection: close, and the program
// exits 0 with the image's file in -data.
func TestSIGTERMDrainsUpload(t *testing.T) {
	dir := t.TempDir()
	s := start(t, "-data", dir, "-drain", wait.String())
	cl := client(t)
	img := create(t, cl, s, "in flight")
	body, sum := payload(5<<20, 42)

	// An idle keep-alive connection: Shutdown closes it at once, which
	// tells the test the shutdown has begun.
	idle, err := net.DialTimeout("tcp", s.addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idle.SetDeadline(time.Now().Add(wait))
	io.WriteString(idle, "GET /v2/images HTTP/1.1\r\nHost: test\r\n\r\n")
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("idle connection's request: %s, close %v", resp.Status, resp.Close)
	}

	// The upload asks for 100 Continue, so the client sends no body byte
	// before the handler reads the body: once the pipe's first write has
	// been taken, the upload is in the handler.
	pr, pw := io.Pipe()
	defer pr.Close()
	req := newRequest(t, "PUT", s.url+"/v2/images/"+img.ID+"/file", pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Expect", "100-continue")
	type answer struct {
		resp *http.Response
		body []byte
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := cl.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers <- answer{resp, b, err}
	}()
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		t.Fatal(err)
	}

	s.signal(t)
	if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("the idle connection is still open after SIGTERM: %d, %v", n, err)
	}
	if _, err := pw.Write(body[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()

	var a answer
	select {
	case a = <-answers:
	case <-time.After(wait):
		t.Fatal("no answer to the upload")
	}
	if a.err != nil {
		t.Fatalf("upload: %v", a.err)
	}
	var got record
	if err := json.Unmarshal(a.body, &got); err != nil || a.resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: %s: %s (%v)", a.resp.Status, a.body, err)
	}
	if !a.resp.Close {
		t.Errorf("the upload's answer lacks Connection: close: the server was not shutting down")
	}
	if got.Status != "active" || *got.Checksum != sum || *got.Size != int64(len(body)) {
		t.Errorf("upload: %+v, want active with %s", got, sum)
	}

	if code := s.wait(t); code != 0 {
		t.Fatalf("exit status %d:\n%s", code, s.log)
	}
	for _, want := range []string{"signal received; draining", "shutdown complete"} {
		if !strings.Contains(s.log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, s.log)
		}
	}
	// -data is kept, with the image's file, and no partial one.
	stored, err := os.ReadFile(filepath.Join(dir, img.ID))
	if err != nil || !bytes.Equal(stored, body) {
		t.Errorf("stored file: %d bytes, equal %v, %v", len(stored), bytes.Equal(stored, body), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("data directory holds %v", entries)
	}
}

// TestDeleteDuringUpload deletes an image while its upload is in the
// handler: the upload is answered 410 and leaves no file behind.
func TestDeleteDuringUpload(t *testing.T) {
	dir := t.TempDir()
	s := start(t, "-data", dir)
	cl := client(t)
	img := create(t, cl, s, "deleted in flight")

	// As in TestSIGTERMDrainsUpload, 100-continue tells when the handler
	// reads the body. The body is chunked, so it can end at any byte and
	// be read whole: the 410 leaves the connection clean.
	pr, pw := io.Pipe()
	defer pr.Close()
	req := newRequest(t, "PUT", s.url+"/v2/images/"+img.ID+"/file", hideLength{pr})
	req.Header.Set("Expect", "100-continue")
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := cl.Do(req)
		if err != nil {
			answers <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers <- answer{resp.StatusCode, b, err}
	}()
	body, _ := payload(100<<10, 7)
	if _, err := pw.Write(body); err != nil {
		t.Fatal(err)
	}
	expect(t, cl, newRequest(t, "DELETE", s.url+"/v2/images/"+img.ID, nil), http.StatusNoContent, nil)
	pw.Close()
	select {
	case a := <-answers:
		if a.err != nil || a.status != http.StatusGone {
			t.Fatalf("upload of a deleted image: %d %s (%v), want 410", a.status, a.body, a.err)
		}
	case <-time.After(wait):
		t.Fatal("no answer to the upload")
	}
	expect(t, cl, newRequest(t, "GET", s.url+"/v2/images/"+img.ID, nil), http.StatusNotFound, nil)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("data directory holds %v", entries)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit status %d:\n%s", code, s.log)
	}
}

// TestFlags checks that eventlet.wsgi's options reach greenhttp.Server.
func TestFlags(t *testing.T) {
	type fields struct {
		disableKeepAlives bool
		idle, header      time.Duration
		url, header2, min int
		accessLog         bool
	}
	defaults := fields{false, greenhttp.DefaultIdleTimeout, greenhttp.DefaultReadHeaderTimeout,
		greenhttp.DefaultMaxURLLength, greenhttp.DefaultMaxHeaderBytes, greenhttp.DefaultMinChunkSize, true}
	with := func(f func(*fields)) fields { v := defaults; f(&v); return v }
	cases := []struct {
		args []string
		want fields
	}{
		{[]string{}, defaults},
		{[]string{"-keepalive=false"}, with(func(f *fields) { f.disableKeepAlives = true })},
		{[]string{"-socket-timeout", "30s"}, with(func(f *fields) { f.idle = 30 * time.Second })},
		{[]string{"-socket-timeout", "0"}, with(func(f *fields) { f.idle = -1 })},
		{[]string{"-header-timeout", "2s"}, with(func(f *fields) { f.header = 2 * time.Second })},
		{[]string{"-header-timeout", "0"}, with(func(f *fields) { f.header = -1 })},
		{[]string{"-url-length-limit", "100"}, with(func(f *fields) { f.url = 100 })},
		{[]string{"-max-header-bytes", "2048"}, with(func(f *fields) { f.header2 = 2048 })},
		{[]string{"-minimum-chunk-size", "65536"}, with(func(f *fields) { f.min = 65536 })},
		{[]string{"-access-log=false"}, with(func(f *fields) { f.accessLog = false })},
	}
	for _, c := range cases {
		name := strings.Join(c.args, " ")
		if name == "" {
			name = "defaults"
		}
		t.Run(name, func(t *testing.T) {
			cfg, err := parseFlags(c.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			srv := cfg.server(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			got := fields{srv.DisableKeepAlives, srv.IdleTimeout, srv.ReadHeaderTimeout,
				srv.MaxURLLength, srv.MaxHeaderBytes, srv.MinChunkSize, srv.AccessLog != nil}
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestBadFlags: a bad command line exits 2 with a word on stderr.
func TestBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"-pool", "0"}, "-pool"},
		{[]string{"-max-image", "0"}, "-max-image"},
		{[]string{"-drain", "-1s"}, "-drain"},
		{[]string{"-socket-timeout", "-1s"}, "-socket-timeout"},
		{[]string{"-url-length-limit", "0"}, "-url-length-limit"},
		{[]string{"-minimum-chunk-size", "0"}, "-minimum-chunk-size"},
		{[]string{"-no-such-flag"}, "no-such-flag"},
		{[]string{"extra"}, "unexpected arguments"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			if code := run(c.args, &out); code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, out.String())
			}
			if !strings.Contains(out.String(), c.says) {
				t.Errorf("stderr does not mention %q:\n%s", c.says, out.String())
			}
		})
	}
}
