package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The numbers are the same on every run: the burst arrives in one read and
// the scheduling is deterministic. With room for the burst the reader
// takes all 100 lines before a writer runs, and the first writer to run
// drains the queue by itself; small queues make the reader park mid-burst.
func Example() {
	run(nil, os.Stdout, os.Stderr)
	// Output:
	// queue      first writer ran after  peak length  reader parked  lines per writer  resumes
	// unbounded  100 lines               96           0              [97 1 1 1]        6
	// 100        100 lines               96           0              [97 1 1 1]        6
	// 10         15 lines                10           6              [79 7 7 7]        36
	// 1          6 lines                 1            16             [49 17 17 17]     86
}
