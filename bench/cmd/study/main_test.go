package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/greenhub/greenhub/bench/study"
)

// The test binary is also the executor process, as the command is: run
// calls os.Executable() with "serve".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(study.ServeMain(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		points int // distinct points over the sweeps
		rounds int
		err    string
	}{
		{name: "full", args: nil, points: 11, rounds: 3},
		{name: "quick", args: []string{"-quick"}, points: 2, rounds: 1},
		{name: "own sweeps", args: []string{"-base", "0,1ms,4", "-cpu", "0,1ms", "-wait", "1ms", "-inflight", "4,8"}, points: 3, rounds: 3},
		{name: "bad base", args: []string{"-base", "1ms,4"}, err: "want C,D,K"},
		{name: "bad duration", args: []string{"-cpu", "0,fast"}, err: "-cpu"},
		{name: "bad count", args: []string{"-inflight", "0"}, err: "-inflight"},
		{name: "bad executor", args: []string{"-executors", "hub,fibers"}, err: "fibers"},
		{name: "stray argument", args: []string{"now"}, err: "unexpected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args, &bytes.Buffer{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			seen := map[study.Point]bool{}
			for _, s := range o.cfg.Sweeps {
				for _, p := range s.Points {
					seen[p] = true
				}
			}
			if len(seen) != tc.points || o.cfg.Rounds != tc.rounds {
				t.Errorf("%d points, %d rounds; want %d, %d", len(seen), o.cfg.Rounds, tc.points, tc.rounds)
			}
		})
	}
}

// TestQuickRun runs the quick study on two executors into a directory of
// the test's and redraws it with -render.
func TestQuickRun(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"-quick", "-python", "", "-executors", "hub,pool", "-duration", "150ms", "-out", dir}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("study %v exited %d: %s", args, code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "| greenhub, 1 hub, greenpool 64 |") {
		t.Errorf("the printed report lacks the hub's rows:\n%s", stdout.String())
	}
	r, err := study.Load(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Cells) != 4 || r.Failed() != 0 {
		t.Errorf("%d cells, %d failed; want 4 and 0", len(r.Cells), r.Failed())
	}
	os.Remove(filepath.Join(dir, "cpu_throughput.svg"))
	stdout.Reset()
	if code := run(context.Background(), []string{"-render", filepath.Join(dir, "results.json")}, &stdout, &stderr); code != 0 {
		t.Fatalf("-render exited %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "cpu_throughput.svg")); err != nil {
		t.Errorf("-render did not redraw the chart: %v", err)
	}
}

func TestInterruptedRunWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"-quick", "-python", "", "-executors", "hub", "-out", dir}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "nothing written") {
		t.Errorf("interrupted run exited %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("an interrupted run created %s", dir)
	}
}
