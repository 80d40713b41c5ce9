// Command loadgen drives a TCP echo server with many connections, checks
// every echoed byte and reports msgs/s, MB/s and round-trip latency
// percentiles. It exits 1 if any byte mismatched or any connection failed,
// 2 on bad flags.
//
//	go run ./bench/cmd/loadgen -addr 127.0.0.1:7000 -conns 100 -size 64 -duration 10s
//
// With -json the result is one JSON object on stdout (see loadgen.Result).
// With -marks the lines "loadgen: measure start" and "loadgen: measure end"
// are written to stderr as the measured window begins and ends, so a parent
// process can sample the server's CPU time over exactly that window.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/greenhub/greenhub/bench/loadgen"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cfg := loadgen.Default()
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	marks := fs.Bool("marks", false, "write measure start/end marks to stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "loadgen: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if *marks {
		cfg.OnPhase = func(p loadgen.Phase) { fmt.Fprintf(os.Stderr, "loadgen: measure %s\n", p) }
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.Run(ctx, cfg)
	if res != nil {
		if *asJSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			enc.Encode(res)
		} else {
			fmt.Print(res)
		}
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, loadgen.ErrConfig):
		fmt.Fprintln(os.Stderr, err)
		return 2
	default:
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 1
	}
}
