package picture_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"github.com/greenhub/greenhub/timeline"
	"github.com/greenhub/greenhub/timeline/internal/tracetest"
	"github.com/greenhub/greenhub/timeline/picture"
	"gonum.org/v1/plot/vg"
)

// The fills of the picture's arrow heads and run bars (vgsvg writes
// colours in upper case); the key draws one of each besides the lanes'.
const (
	arrowFill = "#333333"
	runFill   = "#4C78A8"
)

// svgDoc is what the tests look at in a picture: its size, the texts in
// order and how many paths are filled with each colour.
type svgDoc struct {
	width, height string
	texts         []string
	fills         map[string]int
}

// parseSVG parses an SVG document as XML.
func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	doc := svgDoc{fills: map[string]int{}}
	dec := xml.NewDecoder(bytes.NewReader(data))
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			attr := func(name string) string {
				for _, a := range el.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			switch el.Name.Local {
			case "svg":
				doc.width, doc.height = attr("width"), attr("height")
			case "path":
				for _, decl := range strings.Split(attr("style"), ";") {
					if fill, ok := strings.CutPrefix(decl, "fill:"); ok && fill != "none" {
						doc.fills[fill]++
					}
				}
			case "text":
				inText = true
				doc.texts = append(doc.texts, "")
			}
		case xml.CharData:
			if inText {
				doc.texts[len(doc.texts)-1] += string(el)
			}
		case xml.EndElement:
			inText = false
		}
	}
	if doc.width == "" {
		t.Fatal("no <svg> element")
	}
	return doc
}

func (d svgDoc) has(text string) bool { return slices.Contains(d.texts, text) }

// filled counts the paths filled with colour hex, at any opacity: vgsvg
// writes a translucent colour with its channels rounded, off by one or
// two.
func (d svgDoc) filled(hex string) int {
	var want [3]int
	fmt.Sscanf(hex, "#%02X%02X%02X", &want[0], &want[1], &want[2])
	n := 0
	for fill, count := range d.fills {
		var got [3]int
		if _, err := fmt.Sscanf(fill, "#%02X%02X%02X", &got[0], &got[1], &got[2]); err != nil {
			continue
		}
		close := true
		for i := range got {
			close = close && got[i]-want[i] >= -2 && got[i]-want[i] <= 2
		}
		if close {
			n += count
		}
	}
	return n
}

func readTrace(t *testing.T, input string) *timeline.Trace {
	t.Helper()
	tr, err := timeline.Read(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func render(t *testing.T, tr *timeline.Trace, o picture.Options) svgDoc {
	t.Helper()
	var buf bytes.Buffer
	if err := picture.SVG(&buf, tr, o); err != nil {
		t.Fatal(err)
	}
	return parseSVG(t, buf.Bytes())
}

// TestLanesKeepEveryHub: a lane limit hides green threads before it hides
// a hub: each hub's loop lane is drawn, and the labels name the hubs.
func TestLanesKeepEveryHub(t *testing.T) {
	twoHubs := readTrace(t, tracetest.Object(
		`{"ph":"M","name":"process_name","pid":1,"args":{"name":"hub 1"}}`,
		`{"ph":"M","name":"process_name","pid":2,"args":{"name":"hub 2"}}`,
		tracetest.Run(5, 0, 1), tracetest.Run(6, 1, 1), tracetest.Run(7, 2, 1),
		`{"ph":"X","cat":"run","name":"g9","pid":2,"tid":9,"ts":0,"dur":1}`,
		tracetest.Phase("poll", 3, 1, `{"timeout":"forever","events":1}`),
		`{"ph":"X","cat":"loop","name":"poll","pid":2,"tid":0,"ts":3,"dur":1,"args":{"timeout":"forever","events":1}}`,
	))
	lanes, hidden, err := picture.Lanes(twoHubs, picture.Options{MaxLanes: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lanes {
		got = append(got, fmt.Sprintf("%d/%s", l.PID, l.Name))
	}
	if want := []string{"1/hub", "1/g5", "2/hub"}; !slices.Equal(got, want) || hidden != 3 {
		t.Errorf("Lanes = %q, %d hidden; want %q, 3 hidden", got, hidden, want)
	}
	doc := render(t, twoHubs, picture.Options{MaxLanes: 3})
	for _, label := range []string{"hub 1", "hub 1 · g5", "hub 2"} {
		if !doc.has(label) {
			t.Errorf("no lane label %q in %q", label, doc.texts)
		}
	}
}

func TestLanes(t *testing.T) {
	greenlet := readTrace(t, tracetest.Object(tracetest.GreenletEvents...))
	tests := []struct {
		name   string
		o      picture.Options
		lanes  []string
		hidden int
	}{
		{name: "all", lanes: []string{"hub", "main", "gr1", "gr2"}},
		{name: "in order", o: picture.Options{Order: true}, lanes: []string{"hub", "main", "gr1", "gr2"}},
		{name: "two lanes", o: picture.Options{MaxLanes: 2}, lanes: []string{"hub", "main"}, hidden: 2},
		{name: "a window", o: picture.Options{From: 3 * time.Microsecond, To: 4 * time.Microsecond}, lanes: []string{"hub", "gr1", "gr2"}},
		{name: "a window and a lane limit", o: picture.Options{From: 3 * time.Microsecond, To: 4 * time.Microsecond, MaxLanes: 1}, lanes: []string{"hub"}, hidden: 2},
		{name: "the first three events", o: picture.Options{MaxEvents: 3}, lanes: []string{"hub", "main"}},
		{name: "the first three events after 1.3µs", o: picture.Options{From: 1300 * time.Nanosecond, MaxEvents: 3}, lanes: []string{"hub", "main", "gr1", "gr2"}},
		{name: "the end", o: picture.Options{From: 10800 * time.Nanosecond}, lanes: []string{"hub", "gr2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lanes, hidden, err := picture.Lanes(greenlet, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range lanes {
				got = append(got, l.Name)
			}
			if !slices.Equal(got, tt.lanes) || hidden != tt.hidden {
				t.Errorf("Lanes = %q, %d hidden; want %q, %d hidden", got, hidden, tt.lanes, tt.hidden)
			}
			doc := render(t, greenlet, tt.o)
			for _, name := range tt.lanes {
				if !doc.has(name) {
					t.Errorf("no lane label %q in %q", name, doc.texts)
				}
			}
		})
	}
}

func TestPicture(t *testing.T) {
	greenlet := tracetest.Object(tracetest.GreenletEvents...)
	tests := []struct {
		name    string
		input   string
		o       picture.Options
		arrows  int      // switch arrows, not counting the key's
		runs    int      // run bars, not counting the key's
		texts   []string // that the picture shows
		absent  []string // that it does not
		height  string
		message string
	}{{
		name:   "greenlet, by time",
		input:  greenlet,
		arrows: 8, runs: 6,
		texts:  []string{"hub", "main", "gr1", "gr2", "running", "spawn", "exit", "switch", "loop: batch", "loop: door", "hub: killed", "µs since the tracer started"},
		absent: []string{"block", "wake"},
		height: "186.24pt",
	}, {
		name:   "greenlet, in order, with a title",
		input:  greenlet,
		o:      picture.Options{Order: true, Title: "the greenlet program"},
		arrows: 8, runs: 6,
		texts:  []string{"the greenlet program", "events in order: each step is the next event, not a length of time"},
		height: "207.84pt",
	}, {
		name:   "greenlet, three lanes: only the arrows between them",
		input:  greenlet,
		o:      picture.Options{MaxLanes: 3},
		arrows: 4, runs: 4,
		texts:  []string{"hub", "main", "gr1", "µs since the tracer started (1 more lane not shown)"},
		absent: []string{"gr2"},
	}, {
		name:   "greenlet, a window cuts the runs",
		input:  greenlet,
		o:      picture.Options{From: 2500 * time.Nanosecond, To: 3500 * time.Nanosecond},
		arrows: 1, runs: 2,
		texts:  []string{"gr1", "gr2"},
		absent: []string{"main"},
	}, {
		name: "block reasons where they fit",
		input: tracetest.Object(
			tracetest.Run(2, 0, 10), tracetest.Instant(2, "block", 10, `{"reason":"read fd 5"}`),
			tracetest.Run(3, 0, 5), tracetest.Instant(3, "block", 5, `{"reason":"queue"}`), tracetest.Instant(3, "wake", 8, ""),
			tracetest.Run(4, 0, 1), tracetest.Instant(4, "block", 1, `{"reason":"`+strings.Repeat("far too long to fit anywhere ", 10)+`"}`),
		),
		// read fd 5 at the right edge goes above the bar; queue fits on
		// the lane before the wake; the long one fits nowhere.
		texts:  []string{"read fd 5", "queue", "block", "wake", "running"},
		absent: []string{"switch", strings.Repeat("far too long to fit anywhere ", 10)},
		runs:   3,
	}, {
		name: "markers too close to draw",
		input: tracetest.Object(
			tracetest.Run(2, 0, 10), tracetest.Instant(2, "block", 10, `{"reason":"read fd 5"}`),
			tracetest.Instant(2, "block", 10.01, `{"reason":"sleep"}`), tracetest.Instant(2, "wake", 10.02, ""),
			tracetest.Run(3, 0, 5), tracetest.Instant(3, "block", 5, `{"reason":"queue"}`),
		),
		// Of a cluster, only the last marker is drawn.
		texts:  []string{"queue", "block (2 too close to draw)", "wake"},
		absent: []string{"read fd 5", "sleep"},
		runs:   2,
	}, {
		name: "block reasons in order have room",
		input: tracetest.Object(
			tracetest.Run(2, 0, 10), tracetest.Instant(2, "block", 10, `{"reason":"read fd 5"}`),
			tracetest.Instant(2, "block", 10.01, `{"reason":"sleep"}`), tracetest.Instant(2, "block", 10.02, `{"reason":"event"}`),
		),
		o:     picture.Options{Order: true},
		texts: []string{"read fd 5", "sleep", "event"},
		runs:  1,
	}, {
		name: "two hubs: lanes say whose",
		input: tracetest.Object(
			`{"ph":"M","name":"process_name","pid":2,"args":{"name":"worker"}}`,
			tracetest.Run(5, 0, 1), `{"ph":"X","cat":"run","pid":2,"tid":5,"ts":0,"dur":1}`,
			`{"ph":"X","cat":"loop","name":"poll","pid":2,"tid":0,"ts":1,"dur":1,"args":{"timeout":"forever","events":2}}`,
		),
		texts:  []string{"hub 1 · g5", "worker", "worker · g5", "loop: poll"},
		absent: []string{"g5", "worker · hub"},
		runs:   2,
	}, {
		name: "switches too close to draw",
		input: tracetest.Object(append(crowd(100),
			tracetest.Run(1, 1000, 10), tracetest.SwitchTo(1, 1010, 2), tracetest.Run(2, 1010, 5), // clear of the crowd
		)...),
		arrows: 1, runs: 4, // the crowd's 100 runs merge into one bar per lane
		texts: []string{"switch (100 too close to draw)"},
	}, {
		name:   "a long run in milliseconds",
		input:  tracetest.Object(tracetest.Run(1, 0, 50000), tracetest.Instant(1, "exit", 50000, `{"error":"boom"}`)),
		texts:  []string{"ms since the tracer started", "g1", "boom"},
		absent: []string{"µs since the tracer started"},
		runs:   1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, readTrace(t, tt.input), tt.o)
			if doc.width != "576pt" {
				t.Errorf("width %s, want 576pt (8 inches)", doc.width)
			}
			if tt.height != "" && doc.height != tt.height {
				t.Errorf("height %s, want %s", doc.height, tt.height)
			}
			want := tt.arrows
			if slices.ContainsFunc(doc.texts, func(s string) bool { return strings.HasPrefix(s, "switch") }) {
				want++ // the key's
			}
			if got := doc.filled(arrowFill); got != want {
				t.Errorf("%d arrow heads, want %d (%d switches and the key's)", got, want, tt.arrows)
			}
			if got, want := doc.filled(runFill), tt.runs+1; got != want {
				t.Errorf("%d run bars, want %d (%d runs and the key's)", got, want, tt.runs)
			}
			for _, s := range tt.texts {
				if !doc.has(s) {
					t.Errorf("no text %q in %q", s, doc.texts)
				}
			}
			for _, s := range tt.absent {
				if doc.has(s) {
					t.Errorf("text %q in %q", s, doc.texts)
				}
			}
		})
	}
}

// crowd is n switches between g1 and g2 a tenth of a microsecond apart.
func crowd(n int) []string {
	var evs []string
	for i := range n {
		from, to := 1+i%2, 2-i%2
		ts := float64(i) / 10
		evs = append(evs, tracetest.Run(from, ts, 0.1), tracetest.SwitchTo(from, ts+0.1, to))
	}
	return evs
}

func TestPictureErrors(t *testing.T) {
	greenlet := readTrace(t, tracetest.Object(tracetest.GreenletEvents...))
	tests := []struct {
		name  string
		t     *timeline.Trace
		o     picture.Options
		check func(error) bool
	}{
		{name: "an empty trace", t: readTrace(t, `{"traceEvents":[]}`), check: func(err error) bool { return errors.Is(err, picture.ErrEmpty) }},
		{name: "only unknown events", t: readTrace(t, `[{"ph":"B","pid":1,"tid":1,"ts":0}]`), check: func(err error) bool { return errors.Is(err, picture.ErrEmpty) }},
		{name: "a window after the end", t: greenlet, o: picture.Options{From: time.Second}, check: func(err error) bool { return errors.Is(err, picture.ErrEmpty) }},
		{name: "a window backwards", t: greenlet, o: picture.Options{From: 2 * time.Microsecond, To: time.Microsecond}, check: func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "ends (1µs) before it starts (2µs)")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := picture.SVG(io.Discard, tt.t, tt.o)
			if !tt.check(err) {
				t.Errorf("WriteSVG = %v", err)
			}
			if _, perr := picture.Plot(tt.t, tt.o); (perr == nil) != (err == nil) {
				t.Errorf("Plot = %v, WriteSVG = %v", perr, err)
			}
		})
	}
}

func TestRenderFormats(t *testing.T) {
	greenlet := readTrace(t, tracetest.Object(tracetest.GreenletEvents...))
	for _, tt := range []struct{ format, magic string }{
		{"png", "\x89PNG"}, {"pdf", "%PDF"}, {"svg", "<?xml"},
	} {
		var buf bytes.Buffer
		if err := picture.Write(&buf, greenlet, picture.Options{}, tt.format); err != nil {
			t.Fatalf("%s: %v", tt.format, err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte(tt.magic)) {
			t.Errorf("%s starts with %q", tt.format, buf.Bytes()[:min(8, buf.Len())])
		}
	}
	if err := picture.Write(io.Discard, greenlet, picture.Options{}, "gif"); err == nil {
		t.Error("Render to gif succeeded")
	}
}

// TestGreenletEndToEnd runs the greenlet program on a real hub with a
// Chrome tracer, reads the trace back and draws it: the switches go
// main, gr1, gr2, gr1, main, as the program prints 12, 56, 34.
func TestGreenletEndToEnd(t *testing.T) {
	var trace bytes.Buffer
	c := timeline.NewChrome(&trace)
	h := hub.New(hub.WithTracer(c))
	var printed strings.Builder
	err := hubtest.Run(t, h, func() error { return tracetest.Greenlet(&printed)(h) })
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if printed.String() != "12 56 34 " {
		t.Fatalf("printed %q", printed.String())
	}

	tr, err := timeline.Read(&trace)
	if err != nil {
		t.Fatal(err)
	}
	var greenlets []string // the switches between green threads
	for _, hop := range tracetest.Hops(tr) {
		if !strings.Contains(hop, "hub") {
			greenlets = append(greenlets, hop)
		}
	}
	if want := []string{"main>gr1", "gr1>gr2", "gr2>gr1", "gr1>main"}; !slices.Equal(greenlets, want) {
		t.Errorf("switches between green threads %q, want %q (all: %q)", greenlets, want, tracetest.Hops(tr))
	}
	for _, o := range []picture.Options{{}, {Order: true}} {
		doc := render(t, tr, o)
		for _, lane := range []string{"hub", "main", "gr1", "gr2"} {
			if !doc.has(lane) {
				t.Errorf("%+v: no lane %q in %q", o, lane, doc.texts)
			}
		}
		if got, want := doc.filled(arrowFill), len(tr.Switches())+1; got != want {
			t.Errorf("%+v: %d arrow heads, want %d", o, got, want)
		}
	}
}

// FuzzPicture draws whatever Read accepts: drawing must not panic or
// hang, and fails only with ErrEmpty.
func FuzzPicture(f *testing.F) {
	f.Add(tracetest.Object(tracetest.GreenletEvents...))
	f.Add("[" + tracetest.Run(1, 0, 1) + ",")
	f.Add(tracetest.Object(tracetest.Phase("poll", 0, 1, `{"timeout":"1ms","events":1}`), tracetest.SwitchTo(0, 1, 2), tracetest.Run(2, 1, 0)))
	f.Add(`{"traceEvents":[{"ph":"X","cat":"run","name":"g1","pid":1,"tid":1,"ts":4e15,"dur":0}]}`)
	f.Fuzz(func(t *testing.T, input string) {
		tr, err := timeline.Read(strings.NewReader(input))
		if err != nil {
			return
		}
		for _, o := range []picture.Options{{}, {Order: true, MaxLanes: 3, MaxEvents: 20}} {
			if err := picture.SVG(io.Discard, tr, o); err != nil && !errors.Is(err, picture.ErrEmpty) {
				t.Fatalf("SVG(%+v) = %v", o, err)
			}
		}
	})
}

// The whole way: a traced run, read back, drawn in event order.
func ExampleSVG() {
	var trace bytes.Buffer
	c := timeline.NewChrome(&trace)
	h := hub.New(hub.WithTracer(c))
	err := h.Run(func() error {
		var ping, pong greenthread.Greenlet
		ping, _ = greenthread.NewGreenlet(h, func(any) (any, error) {
			return pong.Switch(nil)
		}, greenthread.Greenlet{})
		pong, _ = greenthread.NewGreenlet(h, func(any) (any, error) {
			return nil, nil
		}, ping)
		ping.G().SetName("ping")
		pong.G().SetName("pong")
		_, err := ping.Switch(nil)
		return err
	})
	if err := errors.Join(err, c.Close()); err != nil {
		fmt.Println(err)
		return
	}

	t, err := timeline.Read(&trace)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, sw := range t.Switches() {
		fmt.Println(sw.From.Name, "→", sw.To.Name)
	}
	var svg bytes.Buffer
	if err := picture.SVG(&svg, t, picture.Options{Order: true}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.HasPrefix(svg.String(), "<?xml"))
	// Output:
	// hub → g1
	// g1 → ping
	// ping → pong
	// pong → ping
	// ping → g1
	// g1 → hub
	// true
}

// Plot and Size hand the picture over as a gonum plot, to be drawn at the
// size it was laid out for in any format gonum knows, or combined with
// other plots.
func ExamplePlot() {
	t, err := timeline.Read(strings.NewReader(tracetest.Object(tracetest.GreenletEvents...)))
	if err != nil {
		fmt.Println(err)
		return
	}
	o := picture.Options{Order: true, Title: "greenlet"}
	p, err := picture.Plot(t, o)
	if err != nil {
		fmt.Println(err)
		return
	}
	width, height, err := picture.Size(t, o)
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := p.WriterTo(width, height, "png")
	if err != nil {
		fmt.Println(err)
		return
	}
	var png bytes.Buffer
	if _, err := w.WriteTo(&png); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(float64(width/vg.Inch), "inches wide;", bytes.HasPrefix(png.Bytes(), []byte("\x89PNG")))
	// Output: 8 inches wide; true
}
