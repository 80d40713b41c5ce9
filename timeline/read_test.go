package timeline_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/timeline"
	"github.com/greenhub/greenhub/timeline/internal/tracetest"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		lanes    []string
		switches []string
		check    func(t *testing.T, tr *timeline.Trace)
	}{{
		name:     "greenlet program",
		input:    tracetest.Object(tracetest.GreenletEvents...),
		lanes:    []string{"hub", "main", "gr1", "gr2"},
		switches: []string{"hub>main", "main>gr1", "gr1>gr2", "gr2>gr1", "gr1>main", "main>hub", "hub>gr2", "gr2>hub"},
		check: func(t *testing.T, tr *timeline.Trace) {
			gr2 := tr.Track(1, 3)
			if got := len(gr2.Runs); got != 2 {
				t.Errorf("gr2 has %d runs, want 2", got)
			}
			if last := gr2.Instants[len(gr2.Instants)-2]; last.Name != "exit" || last.Err != "hub: killed" {
				t.Errorf("gr2's exit = %+v, want the kill's error", last)
			}
			hub := tr.Track(1, 0)
			want := []timeline.Phase{
				{Name: "batch", Span: timeline.Span{Start: time.Microsecond, Dur: 9 * time.Microsecond}, Resumed: 1},
				{Name: "door", Span: timeline.Span{Start: 10 * time.Microsecond, Dur: 500 * time.Nanosecond}, Jobs: 1},
			}
			if !slices.Equal(hub.Phases, want) {
				t.Errorf("hub phases = %+v, want %+v", hub.Phases, want)
			}
			if start, end := tr.Bounds(); start != 0 || end != 11200*time.Nanosecond {
				t.Errorf("Bounds = %v, %v; want 0, 11.2µs", start, end)
			}
			if tr.Truncated {
				t.Error("a whole trace read as Truncated")
			}
		},
	}, {
		name:     "bare array, events out of order, no metadata",
		input:    "[" + strings.Join([]string{tracetest.SwitchTo(7, 5, 9), tracetest.Run(9, 5, 1), tracetest.Run(7, 1, 4)}, ",") + "]",
		lanes:    []string{"g7", "g9"},
		switches: []string{"g7>g9"},
		check: func(t *testing.T, tr *timeline.Trace) {
			if g7 := tr.Track(1, 7); g7.Runs[0].Start != time.Microsecond || g7.Hub != "hub 1" {
				t.Errorf("g7 = %+v, want its run sorted first and hub 1", g7)
			}
		},
	}, {
		name:  "bare array cut short after a comma",
		input: "[\n" + tracetest.Run(4, 0, 1) + ",\n" + tracetest.Run(4, 2, 1) + ",\n",
		lanes: []string{"g4"},
		check: func(t *testing.T, tr *timeline.Trace) {
			if n := len(tr.Tracks[0].Runs); n != 2 || !tr.Truncated {
				t.Errorf("%d runs, truncated %v; want 2, true", n, tr.Truncated)
			}
		},
	}, {
		name:  "a tracer never closed",
		input: `{"displayTimeUnit":"ns","traceEvents":[` + "\n" + tracetest.Run(4, 0, 1) + ",\n" + tracetest.SwitchTo(4, 1, 0),
		lanes: []string{"hub", "g4"}, switches: []string{"g4>hub"},
		check: func(t *testing.T, tr *timeline.Trace) {
			if !tr.Truncated {
				t.Error("not Truncated")
			}
		},
	}, {
		name:  "cut inside an event (a crash): the incomplete event is dropped",
		input: `{"displayTimeUnit":"ns","traceEvents":[` + "\n" + tracetest.Run(4, 0, 1) + ",\n" + `{"ph":"X","cat":"run","pid":1,"ti`,
		lanes: []string{"g4"},
		check: func(t *testing.T, tr *timeline.Trace) {
			if n := len(tr.Tracks[0].Runs); n != 1 || !tr.Truncated {
				t.Errorf("%d runs, truncated %v; want 1, true", n, tr.Truncated)
			}
		},
	}, {
		name:  "bare array cut inside an event",
		input: "[" + tracetest.Run(1, 0, 1) + `,{"ph":"X"`,
		lanes: []string{"g1"},
		check: func(t *testing.T, tr *timeline.Trace) {
			if !tr.Truncated {
				t.Error("not Truncated")
			}
		},
	}, {
		name: "unknown events, fields, categories and names are ignored",
		input: tracetest.Object(
			`{"ph":"B","name":"x","pid":1,"tid":5,"ts":1}`,
			`{"ph":"X","cat":"gc","name":"mark","pid":1,"tid":6,"ts":1,"dur":2}`,
			`{"ph":"i","cat":"sched","name":"yawn","pid":1,"tid":8,"ts":1}`,
			`{"ph":"X","cat":"loop","name":"idle","pid":1,"tid":0,"ts":1,"dur":1}`,
			`{"ph":"M","name":"thread_colour","pid":1,"tid":9,"args":{"c":1}}`,
			`{"ph":"s","cat":"switch","name":"switch","id":1,"pid":1,"tid":5,"ts":2}`,
			`{"ph":"X","cat":"run","name":"g5","pid":1,"tid":5,"ts":2,"dur":1,"future":[1,2],"args":{"more":true}}`,
		),
		lanes: []string{"g5"},
	}, {
		name: "hubs: loop first in each, sort index before tid, renames",
		input: tracetest.Object(
			tracetest.ThreadName(3, "early"), tracetest.ThreadName(3, "renamed"),
			`{"ph":"M","name":"thread_sort_index","pid":1,"tid":3,"args":{"sort_index":100}}`,
			`{"ph":"M","name":"process_name","pid":2,"args":{"name":"worker"}}`,
			`{"ph":"X","cat":"run","pid":2,"tid":4,"ts":0,"dur":1}`,
			`{"ph":"X","cat":"loop","name":"poll","pid":2,"tid":0,"ts":1,"dur":1,"args":{"timeout":"forever","events":2}}`,
			tracetest.Run(3, 0, 1), tracetest.Run(5, 0, 1), tracetest.Phase("timers", 0, 1, `{"fired":3}`),
		),
		lanes: []string{"hub", "g5", "renamed", "hub", "g4"},
		check: func(t *testing.T, tr *timeline.Trace) {
			if h := tr.Track(2, 0); h.Hub != "worker" || h.Phases[0].Timeout != "forever" || h.Phases[0].Events != 2 {
				t.Errorf("hub 2 = %+v", h)
			}
			if h := tr.Track(1, 0); h.Phases[0].Fired != 3 {
				t.Errorf("hub 1 = %+v", h)
			}
		},
	}, {
		name:  "an empty trace",
		input: `{"traceEvents":[]}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := timeline.Read(strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if got := tracetest.Names(tr); !slices.Equal(got, tt.lanes) {
				t.Errorf("lanes = %q, want %q", got, tt.lanes)
			}
			if got := tracetest.Hops(tr); !slices.Equal(got, tt.switches) {
				t.Errorf("switches = %q, want %q", got, tt.switches)
			}
			if tt.check != nil {
				tt.check(t, tr)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		line, col  int
		event      int
		errContain string
	}{
		{name: "empty", input: "", line: 1, col: 1, event: -1, errContain: "empty input"},
		{name: "not a trace", input: `"hello"`, line: 1, col: 8, event: -1, errContain: "want a JSON object or array"},
		{name: "no traceEvents", input: `{"displayTimeUnit":"ns"}`, line: 1, col: 25, event: -1, errContain: "no traceEvents"},
		{name: "traceEvents not an array", input: `{"traceEvents":{}}`, line: 1, col: 17, event: -1, errContain: "not an array"},
		{name: "syntax error in an event", input: "{\"traceEvents\":[\n" + tracetest.Run(1, 0, 1) + ",\n{\"ph\":\"X\",,}]}", line: 3, col: 11, event: 1, errContain: "invalid character"},
		{name: "object cut short before its events", input: `{"traceEvents":`, line: 1, event: -1, errContain: "EOF"},
		{name: "no ph", input: tracetest.Object(tracetest.Run(1, 0, 1), `{"name":"x"}`), line: 3, col: 1, event: 1, errContain: `no "ph"`},
		{name: "run without ts", input: tracetest.Object(`{"ph":"X","cat":"run","pid":1,"tid":2,"dur":1}`), line: 2, col: 1, event: 0, errContain: `no "ts"`},
		{name: "negative dur", input: tracetest.Object(`{"ph":"X","cat":"run","pid":1,"tid":2,"ts":0,"dur":-1}`), line: 2, event: 0, errContain: "negative"},
		{name: "ts too large", input: tracetest.Object(`{"ph":"X","cat":"run","pid":1,"tid":2,"ts":1e300,"dur":1}`), line: 2, event: 0, errContain: "ts 1e300"},
		{name: "tid not an integer", input: tracetest.Object(`{"ph":"X","cat":"run","pid":1,"tid":2.5,"ts":0,"dur":1}`), line: 2, event: 0, errContain: "tid 2.5"},
		{name: "pid a string", input: tracetest.Object(`{"ph":"X","cat":"run","pid":"one","tid":2,"ts":0,"dur":1}`), line: 2, event: 0, errContain: "pid"},
		{name: "switch without to", input: tracetest.Object(tracetest.Instant(2, "switch", 1, `{}`)), line: 2, event: 0, errContain: "without args.to"},
		{name: "block reason not a string", input: tracetest.Object(tracetest.Instant(2, "block", 1, `{"reason":5}`)), line: 2, event: 0, errContain: "args.reason: want string"},
		{name: "thread_name without name", input: tracetest.Object(`{"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{}}`), line: 2, event: 0, errContain: "without args.name"},
		{name: "data after the trace", input: `{"traceEvents":[]} []`, line: 1, event: -1, errContain: "data after the trace"},
		{name: "traceEvents twice", input: `{"traceEvents":[],"traceEvents":[]}`, line: 1, event: -1, errContain: "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := timeline.Read(strings.NewReader(tt.input))
			var fe *timeline.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Read = %v, %v; want a *FormatError", tr, err)
			}
			if !strings.Contains(err.Error(), tt.errContain) {
				t.Errorf("error %q does not say %q", err, tt.errContain)
			}
			if fe.Line != tt.line || (tt.col != 0 && fe.Column != tt.col) || fe.Event != tt.event {
				t.Errorf("error at line %d, column %d, event %d; want line %d, column %d, event %d (%v)",
					fe.Line, fe.Column, fe.Event, tt.line, tt.col, tt.event, err)
			}
		})
	}
}

// FuzzRead reads arbitrary input: Read must not panic, and what it
// returns must hold the model's invariants, or fail cleanly. (FuzzPicture,
// in package picture, draws what it reads.)
func FuzzRead(f *testing.F) {
	f.Add(tracetest.Object(tracetest.GreenletEvents...))
	f.Add("[" + tracetest.Run(1, 0, 1) + ",")
	f.Add(tracetest.Object(tracetest.Phase("poll", 0, 1, `{"timeout":"1ms","events":1}`), tracetest.SwitchTo(0, 1, 2), tracetest.Run(2, 1, 0)))
	f.Add(`{"traceEvents":[{"ph":"i","cat":"sched","name":"switch","pid":1,"tid":1,"ts":-5,"args":{"to":1}}]}`)
	f.Fuzz(func(t *testing.T, input string) {
		tr, err := timeline.Read(strings.NewReader(input))
		if err != nil {
			var fe *timeline.FormatError
			if !errors.As(err, &fe) || fe.Line < 1 || fe.Column < 1 {
				t.Fatalf("error %v is not a positioned *FormatError", err)
			}
			return
		}
		for i, track := range tr.Tracks {
			if i > 0 && tr.Tracks[i-1].PID > track.PID {
				t.Fatalf("tracks out of order: %v", tracetest.Names(tr))
			}
			for j, s := range track.Runs {
				if s.Dur < 0 || (j > 0 && track.Runs[j-1].Start > s.Start) {
					t.Fatalf("bad runs on %s: %+v", track.Name, track.Runs)
				}
			}
		}
		for _, sw := range tr.Switches() {
			if sw.From == nil || sw.To == nil {
				t.Fatalf("switch with a missing end: %+v", sw)
			}
		}
	})
}

// Reading a trace: the lanes in display order and what happened on them.
func ExampleRead() {
	t, err := timeline.Read(strings.NewReader(`{"traceEvents":[
		{"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"reader"}},
		{"ph":"X","cat":"run","name":"reader","pid":1,"tid":2,"ts":10,"dur":2.5},
		{"ph":"i","s":"t","cat":"sched","name":"block","pid":1,"tid":2,"ts":12.5,"args":{"reason":"read fd 5"}},
		{"ph":"i","s":"t","cat":"sched","name":"switch","pid":1,"tid":2,"ts":12.5,"args":{"to":0}},
		{"ph":"X","cat":"loop","name":"poll","pid":1,"tid":0,"ts":13,"dur":100,"args":{"timeout":"forever","events":1}}
	]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, tr := range t.Tracks {
		fmt.Printf("%s: %d runs, %d instants, %d phases\n", tr.Name, len(tr.Runs), len(tr.Instants), len(tr.Phases))
	}
	reader := t.Track(1, 2)
	fmt.Println(reader.Runs[0].Start, reader.Runs[0].End(), reader.Instants[0].Reason)
	poll := t.Track(1, 0).Phases[0]
	fmt.Println(poll.Name, poll.Timeout, poll.Events)
	// Output:
	// hub: 0 runs, 0 instants, 1 phases
	// reader: 1 runs, 2 instants, 0 phases
	// 10µs 12.5µs read fd 5
	// poll forever 1
}
