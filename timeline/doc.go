// Package timeline shows a run of greenhub hubs: what ran when, on which
// track, and why it stopped.
//
// Chrome is a hub.Tracer that records a run in the Chrome trace-event JSON
// format — load the file in Perfetto (ui.perfetto.dev) or chrome://tracing.
// Each hub is a process; each green thread or greenlet a track (named by
// G.SetName, else g<ID>) with a span for every stretch it ran and instants
// for its spawn, each block (and what it waited for: sleep, read fd 5,
// queue…), each wake-up, each switch (with an arrow to the G that got the
// thread) and its exit; the hub loop's track (tid 0, "hub") shows the
// loop's phases that did work: timers (how many fired), batch (how many
// green threads resumed), poll (its timeout, its events) and door (items
// run). Read loads such a file back; package picture (timeline/picture)
// draws it, kept apart so that a program that only traces does not link
// gonum/plot.
//
// Runtime is a hub.Tracer for the Go execution tracer: while runtime/trace
// is on (go test -trace, trace.Start), each green thread is a task of `go
// tool trace`, with a region per stretch it ran and logs for its blocks,
// wake-ups, switches and exit. Tee gives a hub both.
//
// A hub without a tracer pays one nil check per event; the benchmarks in
// package bench (BenchmarkTracer) compare off, a tracer that does nothing,
// and Chrome writing to io.Discard.
//
//	c, err := timeline.Create("run.json")
//	if err != nil { ... }
//	h := hub.New(hub.WithTracer(c))
//	err = h.Run(main)
//	if cerr := c.Close(); err == nil { err = cerr }
//
// Every example under examples/ takes -trace FILE for the same.
package timeline
