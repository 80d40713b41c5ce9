// Package tracetest builds traces in timeline's format by hand, for the
// tests of timeline and its picture: events on hub (pid) 1 unless said
// otherwise, times in microseconds.
package tracetest

import (
	"fmt"
	"io"
	"strings"

	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timeline"
)

// Object is a trace file holding events.
func Object(events ...string) string {
	return `{"displayTimeUnit":"ns","traceEvents":[` + "\n" + strings.Join(events, ",\n") + "\n]}"
}

// ThreadName names track tid.
func ThreadName(tid int, name string) string {
	return fmt.Sprintf(`{"ph":"M","name":"thread_name","pid":1,"tid":%d,"args":{"name":%q}}`, tid, name)
}

// Run is a run span of track tid.
func Run(tid int, ts, dur float64) string {
	return fmt.Sprintf(`{"ph":"X","cat":"run","name":"g%d","pid":1,"tid":%d,"ts":%g,"dur":%g}`, tid, tid, ts, dur)
}

// Instant is an instant event of track tid, with args (JSON) if not empty.
func Instant(tid int, name string, ts float64, args string) string {
	if args != "" {
		args = `,"args":` + args
	}
	return fmt.Sprintf(`{"ph":"i","s":"t","cat":"sched","name":%q,"pid":1,"tid":%d,"ts":%g%s}`, name, tid, ts, args)
}

// SwitchTo is a switch from track tid to track to.
func SwitchTo(tid int, ts float64, to int) string {
	return Instant(tid, "switch", ts, fmt.Sprintf(`{"to":%d}`, to))
}

// Phase is a loop phase on the hub track, with its args (JSON).
func Phase(name string, ts, dur float64, args string) string {
	return fmt.Sprintf(`{"ph":"X","cat":"loop","name":%q,"pid":1,"tid":0,"ts":%g,"dur":%g,"args":%s}`, name, ts, dur, args)
}

// GreenletEvents is the greenlet program as the tracer records it: the
// loop resumes main (tid 1), which makes gr1 (2) and gr2 (3) and
// switches to gr1; gr1 switches to gr2, gr2 back to gr1, gr1 ends and
// its parent main resumes, main ends, and the loop kills gr2 at the end.
var GreenletEvents = []string{
	`{"ph":"M","name":"process_name","pid":1,"args":{"name":"hub 1"}}`,
	ThreadName(0, "hub"), ThreadName(1, "main"), ThreadName(2, "gr1"), ThreadName(3, "gr2"),
	`{"ph":"M","name":"thread_sort_index","pid":1,"tid":3,"args":{"sort_index":3}}`,
	Instant(1, "spawn", 0, ""),
	Phase("batch", 1, 9, `{"resumed":1}`),
	SwitchTo(0, 1, 1),
	Run(1, 1, 1),
	Instant(2, "spawn", 1.2, ""), Instant(3, "spawn", 1.4, ""),
	SwitchTo(1, 2, 2), Run(2, 2, 1),
	SwitchTo(2, 3, 3), Run(3, 3, 1),
	SwitchTo(3, 4, 2), Run(2, 4, 1),
	Instant(2, "exit", 5, ""), SwitchTo(2, 5, 1), Run(1, 5, 1),
	Instant(1, "exit", 6, ""), SwitchTo(1, 6, 0),
	Phase("door", 10, 0.5, `{"jobs":1}`),
	SwitchTo(0, 11, 3), Run(3, 11, 0.2), Instant(3, "exit", 11.2, `{"error":"hub: killed"}`), SwitchTo(3, 11.2, 0),
}

// Hops renders the switches as "from>to" by lane name.
func Hops(tr *timeline.Trace) []string {
	var out []string
	for _, sw := range tr.Switches() {
		out = append(out, sw.From.Name+">"+sw.To.Name)
	}
	return out
}

// Names lists the tracks' names in display order.
func Names(tr *timeline.Trace) []string {
	var out []string
	for _, t := range tr.Tracks {
		out = append(out, t.Name)
	}
	return out
}

// Greenlet is greenlet's 12/56/34 program as a hub's main, writing "12 56 34 "
// to out, with its green threads named main, gr1 and gr2.
func Greenlet(out io.Writer) func(h *hub.Hub) error {
	return func(h *hub.Hub) error {
		greenthread.Current(h).G().SetName("main")
		var gr1, gr2 greenthread.Greenlet
		gr1, err := greenthread.NewGreenlet(h, func(any) (any, error) {
			fmt.Fprint(out, "12 ")
			gr2.Switch(nil)
			fmt.Fprint(out, "34 ")
			return nil, nil
		}, greenthread.Greenlet{})
		if err != nil {
			return err
		}
		gr2, err = greenthread.NewGreenlet(h, func(any) (any, error) {
			fmt.Fprint(out, "56 ")
			gr1.Switch(nil)
			fmt.Fprint(out, "78 ")
			return nil, nil
		}, greenthread.Greenlet{})
		if err != nil {
			return err
		}
		gr1.G().SetName("gr1")
		gr2.G().SetName("gr2")
		_, err = gr1.Switch(nil)
		return err
	}
}
