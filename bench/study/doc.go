// Package study is the executor study: one RPC-like workload served by
// oslo.messaging's executors re-created in Go, measured side by side. It is
// the library under bench/cmd/study, and what a notebook imports to run a
// small study (Run) or to draw one (Load, Chart).
//
// The workload. A producer, playing the message broker, keeps K messages
// (Requests) in flight over a few loopback TCP connections the executor
// dialled, as a consumer dials its broker; the frame is a 21-byte header
// and a payload (Frame). Each message's handler spins C of CPU work (a
// calibrated busy loop, Spinner), calls a downstream server over a pooled
// connection and waits D for its answer, then writes a Reply. The
// producer measures each message's latency, from its write to the reply's
// read.
//
// The executors (Serve). Hub: oslo's eventlet executor, one hub and a
// green thread per message from a greenpool. Goroutines: a goroutine per
// message. Pool: oslo's threading executor, a fixed pool of goroutines fed
// by a queue. Hubs: Hub on each hub of a hub.Group, one per core, each
// reading its own connections with its own greenpool, as eventlet services
// run one worker process per core. Eventlet and PyThreads: oslo's eventlet
// and threading executors written in Python (bench/peers/oslo_executor.py),
// run when Config.Python is set.
//
// The measurement (Run). Each cell, one executor at one Point (C, D, K),
// runs the executor as a fresh process (Config.Serve, the command's "serve"
// subcommand, whose main is ServeMain) so that its CPU time and peak RSS,
// from getrusage(2) at the measured window's ends, are its own; the
// producer and the downstream server are goroutines of the calling process,
// whose CPU is reported beside. The downstream server answers on a goroutine
// per connection and records how late each answer leaves, the evidence that
// it was never the bottleneck. Sweeps vary C, D and K in turn around a base
// point; Write renders the Results as results.json, results.md and an SVG
// chart per sweep and Metric.
//
// Run, Write, Load and Chart may be called from any goroutine, one Run at
// a time (cells share the machine); Serve and ServeMain block until the
// producer closes its connections.
package study
