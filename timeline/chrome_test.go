package timeline_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"github.com/greenhub/greenhub/timeline"
	"github.com/greenhub/greenhub/timeline/internal/tracetest"
	"golang.org/x/sys/unix"
)

// traceEvent is one event of a written trace, as encoding/json reads it.
type traceEvent struct {
	Ph   string         `json:"ph"`
	Cat  string         `json:"cat"`
	Name string         `json:"name"`
	Pid  int            `json:"pid"`
	Tid  uint64         `json:"tid"`
	Ts   *float64       `json:"ts"`
	Dur  *float64       `json:"dur"`
	S    string         `json:"s"`
	ID   uint64         `json:"id"`
	Bp   string         `json:"bp"`
	Args map[string]any `json:"args"`
}

// ns returns a time of the trace (microseconds, 3 decimals) in
// nanoseconds, exactly.
func ns(us *float64) int64 { return int64(math.Round(*us * 1000)) }

// parseTrace parses a trace written by Chrome, checks every event and the
// invariants of the format (see checkTrace) and returns the events.
func parseTrace(t *testing.T, data []byte) []traceEvent {
	t.Helper()
	var doc struct {
		DisplayTimeUnit string       `json:"displayTimeUnit"`
		TraceEvents     []traceEvent `json:"traceEvents"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("the trace is not the JSON of the format: %v\n%s", err, data)
	}
	if doc.DisplayTimeUnit != "ns" {
		t.Errorf("displayTimeUnit %q", doc.DisplayTimeUnit)
	}
	for _, err := range checkTrace(doc.TraceEvents) {
		t.Error(err)
	}
	return doc.TraceEvents
}

type trackID struct {
	pid int
	tid uint64
}

// checkTrace returns what is wrong with events: an invalid event, a track
// used before its metadata, overlapping spans on a track, a loop phase
// other than a batch inside a green thread's run span (the loop's work
// billed to it), a block not followed by a wake or an exit, a switch arrow
// without its other end.
func checkTrace(events []traceEvent) []error {
	var errs []error
	bad := func(i int, format string, a ...any) {
		errs = append(errs, fmt.Errorf("event %d: %s", i, fmt.Sprintf(format, a...)))
	}
	named := map[trackID]bool{}
	hubs := map[int]bool{}
	spans := map[trackID][][2]int64{}
	blocked := map[trackID]int{} // the block not yet followed by a wake or exit
	flows := map[uint64]string{}
	for i, e := range events {
		id := trackID{e.Pid, e.Tid}
		if e.Pid < 1 {
			bad(i, "pid %d", e.Pid)
		}
		if e.Ph != "M" && (e.Ts == nil || *e.Ts < 0) {
			bad(i, "%s %s without a time", e.Ph, e.Name)
			continue
		}
		switch e.Ph {
		case "M":
			switch e.Name {
			case "process_name":
				hubs[e.Pid] = e.Args["name"] == fmt.Sprintf("hub %d", e.Pid)
				if !hubs[e.Pid] {
					bad(i, "process_name %v", e.Args)
				}
			case "thread_name":
				if !hubs[e.Pid] {
					bad(i, "thread_name before its process_name")
				}
				name, _ := e.Args["name"].(string)
				if name == "" || (e.Tid == 0 && name != "hub") {
					bad(i, "thread_name %v for tid %d", e.Args, e.Tid)
				}
				named[id] = true
			case "thread_sort_index":
				if e.Args["sort_index"] != float64(e.Tid) {
					bad(i, "sort_index %v for tid %d", e.Args, e.Tid)
				}
			default:
				bad(i, "metadata %q", e.Name)
			}
			continue
		}
		if !named[id] && e.Ph != "f" {
			bad(i, "%s %s on track %v before its thread_name", e.Ph, e.Name, id)
		}
		switch e.Ph {
		case "X":
			if e.Dur == nil || *e.Dur < 0 {
				bad(i, "span %s without a duration", e.Name)
				continue
			}
			switch {
			case e.Cat == "run" && e.Tid != 0:
			case e.Cat == "loop" && e.Tid == 0:
				want := map[string]string{"timers": "fired", "batch": "resumed", "door": "jobs", "poll": "events"}[e.Name]
				if n, ok := e.Args[want].(float64); want == "" || !ok || n < 0 || (e.Name != "poll" && n == 0) {
					bad(i, "phase %s args %v", e.Name, e.Args)
				}
				if e.Name == "poll" && e.Args["timeout"] == nil {
					bad(i, "poll without a timeout: %v", e.Args)
				}
			default:
				bad(i, "span %s of category %q on tid %d", e.Name, e.Cat, e.Tid)
			}
			spans[id] = append(spans[id], [2]int64{ns(e.Ts), ns(e.Ts) + ns(e.Dur)})
		case "i":
			if e.S != "t" || e.Cat != "sched" {
				bad(i, "instant %s scope %q category %q", e.Name, e.S, e.Cat)
			}
			switch e.Name {
			case "spawn":
			case "block":
				if _, ok := e.Args["reason"].(string); !ok {
					bad(i, "block without a reason")
				}
				blocked[id] = i
			case "wake", "exit":
				delete(blocked, id)
			case "switch":
				if _, ok := e.Args["to"].(float64); !ok {
					bad(i, "switch without to: %v", e.Args)
				}
			default:
				bad(i, "instant %q", e.Name)
			}
		case "s", "f":
			if e.Cat != "switch" || e.Name != "switch" || e.ID == 0 {
				bad(i, "flow %+v", e)
			}
			if e.Ph == "s" {
				flows[e.ID] = "s"
			} else if flows[e.ID] != "s" || e.Bp != "e" {
				bad(i, "flow end %d without its start, or bp %q", e.ID, e.Bp)
			} else {
				flows[e.ID] = "f"
			}
		default:
			bad(i, "phase type %q", e.Ph)
		}
	}
	for id, ss := range spans {
		slices.SortFunc(ss, func(a, b [2]int64) int { return int(a[0] - b[0]) })
		for k := 1; k < len(ss); k++ {
			if ss[k][0] < ss[k-1][1] {
				errs = append(errs, fmt.Errorf("track %v: span at %dns overlaps the one at %dns", id, ss[k][0], ss[k-1][0]))
			}
		}
	}
	for id, ss := range spans {
		if id.tid == 0 {
			continue
		}
		for _, e := range events {
			if e.Ph != "X" || e.Cat != "loop" || e.Name == "batch" || e.Pid != id.pid {
				continue
			}
			from, to := ns(e.Ts), ns(e.Ts)+ns(e.Dur)
			for _, r := range ss {
				if from > r[0] && to < r[1] {
					errs = append(errs, fmt.Errorf("track %v: the %s phase at %dns lies inside its run span at %dns", id, e.Name, from, r[0]))
				}
			}
		}
	}
	for id, i := range blocked {
		errs = append(errs, fmt.Errorf("track %v: the block of event %d is followed by no wake or exit", id, i))
	}
	for id, ph := range flows {
		if ph != "f" {
			errs = append(errs, fmt.Errorf("switch arrow %d has no end", id))
		}
	}
	return errs
}

// trackNames maps each track to its last name.
func trackNames(events []traceEvent) map[trackID]string {
	m := map[trackID]string{}
	for _, e := range events {
		if e.Ph == "M" && e.Name == "thread_name" {
			m[trackID{e.Pid, e.Tid}] = e.Args["name"].(string)
		}
	}
	return m
}

// switchHops returns the switches as "from>to" by track name, in order.
func switchHops(events []traceEvent) []string {
	names := trackNames(events)
	var hops []string
	for _, e := range events {
		if e.Ph == "i" && e.Name == "switch" {
			to := uint64(e.Args["to"].(float64))
			hops = append(hops, names[trackID{e.Pid, e.Tid}]+">"+names[trackID{e.Pid, to}])
		}
	}
	return hops
}

// traceHub runs main on a hub with opts and a Chrome tracer, and returns
// the trace.
func traceHub(t *testing.T, main func(h *hub.Hub) error, opts ...hub.Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	c := timeline.NewChrome(&buf)
	hubtest.Main(t, main, append(opts, hub.WithTracer(c))...)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

// The greenlet program's trace shows the dance: main, gr1, gr2, gr1, main,
// then the hub unwinds gr2 at the end of the run.
func TestChromeGreenlet(t *testing.T) {
	var out strings.Builder
	events := parseTrace(t, traceHub(t, tracetest.Greenlet(&out)))
	if out.String() != "12 56 34 " {
		t.Errorf("printed %q", out.String())
	}
	hops := switchHops(events)
	want := []string{"hub>main", "main>gr1", "gr1>gr2", "gr2>gr1", "gr1>main"}
	if len(hops) < len(want) || !slices.Equal(hops[:len(want)], want) {
		t.Errorf("switches %q, want %q first", hops, want)
	}
	// gr2 is killed when main returns: the loop resumes it to unwind.
	if !slices.Contains(hops[len(want):], "hub>gr2") {
		t.Errorf("switches %q: gr2 not resumed to unwind", hops)
	}
	runs := map[string]int{}
	names := trackNames(events)
	for _, e := range events {
		if e.Ph == "X" && e.Cat == "run" {
			runs[e.Name]++
			if names[trackID{e.Pid, e.Tid}] != e.Name {
				t.Errorf("span %q on the track of %q", e.Name, names[trackID{e.Pid, e.Tid}])
			}
		}
	}
	if runs["main"] != 2 || runs["gr1"] != 2 || runs["gr2"] < 2 {
		t.Errorf("run spans %v; want main 2, gr1 2, gr2 2 or more", runs)
	}
}

// Each kind of event appears where the format puts it, with its arguments.
func TestChromeEvents(t *testing.T) {
	r, w := hubtest.Pipe(t, false)
	boom := errors.New("boom")
	events := parseTrace(t, traceHub(t, func(h *hub.Hub) error {
		raw := h.Raw()
		fd, err := raw.Register(r)
		if err != nil {
			return err
		}
		reader, err := raw.Spawn(func() error {
			buf := make([]byte, 1)
			for {
				_, err := unix.Read(fd.Sysfd(), buf)
				if err != unix.EAGAIN {
					return err
				}
				fd.ClearReadReady()
				if err := fd.WaitRead(); err != nil {
					return err
				}
			}
		}, nil)
		if err != nil {
			return err
		}
		reader.SetName("reader")
		failing, err := raw.Spawn(func() error { return boom }, func(*hub.G) {})
		if err != nil {
			return err
		}
		failing.SetName("fails")
		if err := raw.Sleep(time.Millisecond); err != nil {
			return err
		}
		done := make(chan struct{})
		go func() { // from another goroutine: through the door
			defer close(done)
			h.Submit(func() {})
		}()
		if err := raw.Sleep(time.Millisecond); err != nil {
			return err
		}
		<-done
		if _, err := unix.Write(w, []byte("x")); err != nil {
			return err
		}
		return raw.Sleep(time.Millisecond)
	}))

	type seen struct{ name, detail string }
	names := trackNames(events)
	var got []seen
	for _, e := range events {
		who := names[trackID{e.Pid, e.Tid}]
		switch {
		case e.Ph == "i" && e.Name == "block":
			got = append(got, seen{who + " block", fmt.Sprint(e.Args["reason"])})
		case e.Ph == "i" && e.Name == "exit" && e.Args != nil:
			got = append(got, seen{who + " exit", fmt.Sprint(e.Args["error"])})
		case e.Ph == "X" && e.Cat == "loop":
			got = append(got, seen{e.Name, ""})
		}
	}
	for _, want := range []seen{
		{"g1 block", "sleep"},
		{"reader block", fmt.Sprintf("read fd %d", r)},
		{"fails exit", "boom"},
		{"timers", ""},
		{"batch", ""},
		{"poll", ""},
		{"door", ""},
	} {
		if !slices.Contains(got, want) {
			t.Errorf("no %q %q in the trace: %v", want.name, want.detail, got)
		}
	}
}

// Several hubs sharing one tracer are several processes.
func TestChromeGroup(t *testing.T) {
	var buf bytes.Buffer
	c := timeline.NewChrome(&buf)
	g := hub.NewGroup(2, hub.WithTracer(c), hubtest.Virtual())
	err := g.Run(func(h *hub.Hub, i int) error {
		greenthread.Current(h).G().SetName(fmt.Sprintf("main%d", i))
		for range 3 {
			if err := greenthread.Sleep(h, time.Millisecond); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	events := parseTrace(t, buf.Bytes())
	pids := map[int]string{}
	for tr, name := range trackNames(events) {
		if tr.tid != 0 {
			pids[tr.pid] = name
		}
	}
	if len(pids) != 2 || pids[1] == pids[2] {
		t.Errorf("tracks by hub %v; want main0 and main1 on hubs 1 and 2", pids)
	}
	for pid := range 2 {
		n := 0
		for _, e := range events {
			if e.Pid == pid+1 && e.Ph == "X" && e.Name == "timers" {
				n++
			}
		}
		if n != 3 {
			t.Errorf("hub %d: %d timers phases, want 3", pid+1, n)
		}
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

// A write error is kept and returned by Close; the run is not disturbed.
func TestChromeWriteError(t *testing.T) {
	c := timeline.NewChrome(&failingWriter{n: 100})
	var out strings.Builder
	hubtest.Main(t, func(h *hub.Hub) error {
		for range 1000 { // more than the buffer holds
			if err := greenthread.Yield(h); err != nil {
				return err
			}
		}
		return tracetest.Greenlet(&out)(h)
	}, hub.WithTracer(c))
	if err := c.Close(); !errors.Is(err, errDiskFull) {
		t.Errorf("Close = %v, want %v", err, errDiskFull)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if out.String() != "12 56 34 " {
		t.Errorf("printed %q", out.String())
	}
}

// Closed while a hub still runs, the trace is a whole document with the
// running span cut at Close; later events are dropped.
func TestChromeCloseWhileRunning(t *testing.T) {
	var buf bytes.Buffer
	c := timeline.NewChrome(&buf)
	hubtest.Main(t, func(h *hub.Hub) error {
		greenthread.Current(h).G().SetName("main")
		if err := greenthread.Yield(h); err != nil {
			return err
		}
		if err := c.Close(); err != nil {
			return err
		}
		return greenthread.Sleep(h, time.Millisecond)
	}, hub.WithTracer(c))
	n := buf.Len()
	events := parseTrace(t, buf.Bytes())
	last := events[len(events)-1]
	if last.Ph != "X" || last.Name != "main" {
		t.Errorf("last event %+v, want main's span cut at Close", last)
	}
	if err := c.Close(); err != nil || buf.Len() != n {
		t.Errorf("Close again = %v, and the trace grew from %d to %d bytes", err, n, buf.Len())
	}
}

// Names with quotes, control characters and invalid UTF-8 stay valid JSON.
func TestChromeNames(t *testing.T) {
	names := []string{`say "hi"`, "tab\tnew\nline\x00\x7f", "bad\xffutf8", "π ✓ 𝄞", `back\slash`}
	events := parseTrace(t, traceHub(t, func(h *hub.Hub) error {
		for _, name := range names {
			g, err := h.Raw().Spawn(func() error { return nil }, nil)
			if err != nil {
				return err
			}
			g.SetName(name)
		}
		return nil
	}))
	got := map[string]bool{}
	for _, name := range trackNames(events) {
		got[name] = true
	}
	for _, name := range names {
		if want := strings.ToValidUTF8(name, "\ufffd"); !got[want] {
			t.Errorf("no track named %q in %v", want, got)
		}
	}
}

// A G renamed after its spawn gets its track renamed.
func TestChromeRename(t *testing.T) {
	events := parseTrace(t, traceHub(t, func(h *hub.Hub) error {
		g, err := h.Raw().Spawn(func() error { return h.Raw().Yield() }, nil)
		if err != nil {
			return err
		}
		if err := h.Raw().Yield(); err != nil { // g runs as g2
			return err
		}
		g.SetName("worker")
		return h.Raw().Sleep(time.Millisecond)
	}, hubtest.Virtual()))
	var seq []string
	for _, e := range events {
		if e.Tid == 2 && (e.Ph == "X" || (e.Ph == "M" && e.Name == "thread_name")) {
			if e.Ph == "M" {
				seq = append(seq, "name "+e.Args["name"].(string))
			} else {
				seq = append(seq, "run "+e.Name)
			}
		}
	}
	want := []string{"name g2", "run g2", "name worker", "run worker"}
	if !slices.Equal(seq, want) {
		t.Errorf("g2's track: %q, want %q", seq, want)
	}
}

// TestChromeLoopWorkNotBilled: on a busy hub the loop's periodic polls and
// due timers run on the stack of the green thread that yields; they must
// end its run span, not lie inside it (checkTrace), and the span begins
// again when it runs on.
func TestChromeLoopWorkNotBilled(t *testing.T) {
	r, _ := hubtest.Pipe(t, true)
	events := parseTrace(t, traceHub(t, func(h *hub.Hub) error {
		raw := h.Raw()
		fd, err := raw.Register(r) // a registered fd makes the periodic poll real
		if err != nil {
			return err
		}
		defer fd.Close()
		waiter, err := raw.Spawn(fd.WaitRead, nil)
		if err != nil {
			return err
		}
		yielders := make([]*greenthread.Thread[struct{}], 2)
		for i := range yielders {
			yielders[i] = greenthread.Spawn(h, func() (struct{}, error) {
				for range 500 {
					if err := greenthread.Yield(h); err != nil {
						return struct{}{}, err
					}
				}
				return struct{}{}, nil
			})
		}
		for range 20 { // timers falling due while the yielders run
			greenthread.SpawnAfter(h, time.Microsecond, func() (struct{}, error) { return struct{}{}, nil })
		}
		for _, y := range yielders {
			if _, err := y.Wait(); err != nil {
				return err
			}
		}
		return raw.Kill(waiter)
	}))
	phases := map[string]int{}
	for _, e := range events {
		if e.Ph == "X" && e.Cat == "loop" {
			phases[e.Name]++
		}
	}
	if phases["poll"] == 0 || phases["batch"] < 100 {
		t.Errorf("phases %v: want periodic polls and hundreds of batches", phases)
	}
}

// stuckWriter holds every write until release is closed, as a pipe nobody
// reads would.
type stuckWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *stuckWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// TestChromeNeverBlocksTheHub: with its writer stuck, a hub tracing many
// times what the queue holds still runs to its end; the chunks that found
// the queue full are dropped, Close says how many events were lost, and
// what was written is still a trace.
func TestChromeNeverBlocksTheHub(t *testing.T) {
	w := &stuckWriter{release: make(chan struct{})}
	c := timeline.NewChrome(w)
	h := hub.New(hub.WithTracer(c))
	ran := make(chan error, 1)
	go func() {
		ran <- h.Run(func() error {
			for range 300000 { // tens of megabytes of events
				if err := greenthread.Yield(h); err != nil {
					return err
				}
			}
			return nil
		})
	}()
	select {
	case err := <-ran:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(30 * time.Second):
		t.Error("the hub is held by the trace's writer")
		close(w.release)
		<-ran
		c.Close()
		return
	}
	close(w.release)
	err := c.Close()
	if err == nil || !strings.Contains(err.Error(), "dropped") {
		t.Errorf("Close = %v, want the events dropped counted", err)
	}
	tr, rerr := timeline.Read(bytes.NewReader(w.buf.Bytes()))
	if rerr != nil || tr.Truncated || len(tr.Tracks) == 0 {
		t.Errorf("the trace written around the drops: %v, truncated %v", rerr, tr != nil && tr.Truncated)
	}
}

// chunkWriter keeps what it is given and signals each write.
type chunkWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes chan struct{}
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.writes <- struct{}{}:
	default:
	}
	return len(p), nil
}

// TestChromeUnclosedTraceReads: what a tracer has written before a crash
// (Close never called) holds whole events only, which Read takes as a
// trace cut short.
func TestChromeUnclosedTraceReads(t *testing.T) {
	w := &chunkWriter{writes: make(chan struct{}, 1)}
	c := timeline.NewChrome(w)
	defer c.Close()
	hubtest.Main(t, func(h *hub.Hub) error {
		for range 2000 { // more than a chunk
			if err := greenthread.Yield(h); err != nil {
				return err
			}
		}
		return nil
	}, hub.WithTracer(c))
	select {
	case <-w.writes:
	case <-time.After(30 * time.Second):
		t.Fatal("no chunk written")
	}
	w.mu.Lock()
	written := bytes.Clone(w.buf.Bytes())
	w.mu.Unlock()
	tr, err := timeline.Read(bytes.NewReader(written))
	if err != nil || !tr.Truncated || len(tr.Track(1, 0).Phases) == 0 {
		t.Fatalf("the unclosed trace (%d bytes): %v, truncated %v", len(written), err, tr != nil && tr.Truncated)
	}
}
