// Command timeline draws a trace recorded with -trace (package timeline's
// Chrome format) as a picture: a lane per green thread with the hub loop
// on top, a bar for every stretch a green thread ran, markers for spawn,
// block (labelled with what it waited for), wake and exit, arrows for the
// switches, and the loop's phases on the hub's lane.
//
//	go run ./examples/greenlet -trace greenlet.json
//	go run ./cmd/timeline -order greenlet.json       # writes greenlet.svg
//	go run ./cmd/timeline -o echo.png -events 300 echo.json
//
// The output's format follows its extension: .svg (the default), .png,
// .pdf, .eps, .jpg, .tif, .tex. -order spaces the events evenly, one step
// each, instead of by time: the way to read a program whose events are
// microseconds apart. A long trace is cut to a window (-from, -to,
// -events) and a number of lanes (-lanes, 24 unless told; 0 for all);
// the command says on stderr what it left out, and the picture's key how
// many switches and markers were too close to draw. A trace whose tracer
// was never closed is drawn as far as it goes, with a note. It exits 1
// when the trace cannot be read or drawn, 2 on bad flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/greenhub/greenhub/timeline"
	"github.com/greenhub/greenhub/timeline/picture"
	"gonum.org/v1/plot/vg"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// errUsage marks a bad command line (exit status 2).
var errUsage = errors.New("usage")

// run draws the trace the arguments name and returns the exit status,
// reporting on stderr.
func run(args []string, stderr io.Writer) int {
	if err := draw(args, stderr); err != nil {
		if errors.Is(err, errUsage) {
			return 2
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "timeline: ") { // package timeline's errors name it already
			msg = "timeline: " + msg
		}
		fmt.Fprintln(stderr, msg)
		return 1
	}
	return 0
}

func draw(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("timeline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: timeline [flags] trace.json")
		fs.PrintDefaults()
	}
	var o picture.Options
	out := fs.String("o", "", "the picture to write; its extension gives the format (default: the trace's name with .svg)")
	fs.BoolVar(&o.Order, "order", false, "lay the events out one step each, in order, instead of by time")
	fs.DurationVar(&o.From, "from", 0, "start of the window, as time since the tracer started (e.g. 1.5ms)")
	fs.DurationVar(&o.To, "to", 0, "end of the window (0: the end of the trace)")
	fs.IntVar(&o.MaxEvents, "events", 0, "draw only the first N events of the window (0: all)")
	fs.IntVar(&o.MaxLanes, "lanes", 24, "draw at most N lanes, the first in order (0: all)")
	fs.StringVar(&o.Title, "title", "", "a title above the lanes")
	width := fs.Float64("width", 8, "width of the picture in inches")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() != 1 || *width <= 0 {
		fs.Usage()
		return errUsage
	}
	o.Width = vg.Length(*width) * vg.Inch
	in := fs.Arg(0)
	if *out == "" {
		*out = strings.TrimSuffix(in, filepath.Ext(in)) + ".svg"
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(*out)), ".")

	t, err := timeline.ReadFile(in)
	if err != nil {
		return err
	}
	if t.Truncated {
		fmt.Fprintf(stderr, "timeline: %s ends early (was the tracer closed?); drawing what it has\n", in)
	}
	if _, hidden, err := picture.Lanes(t, o); err != nil {
		return err
	} else if hidden > 0 {
		fmt.Fprintf(stderr, "timeline: %d lanes left out (-lanes %d)\n", hidden, o.MaxLanes)
	}
	w, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := picture.Write(w, t, o, format); err != nil {
		w.Close()
		os.Remove(*out)
		return err
	}
	return w.Close()
}
