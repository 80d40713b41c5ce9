package main

import (
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	for _, workers := range []int{1, 3, 8} {
		var b strings.Builder
		if err := run(&b, 200, workers); err != nil {
			t.Fatalf("%d workers: %v", workers, err)
		}
		// 1² + … + 200² = 200·201·401/6
		if !strings.HasSuffix(b.String(), "200 results, sum 2686700\n") {
			t.Fatalf("%d workers: output ends %q", workers, b.String()[max(0, b.Len()-40):])
		}
	}
}

func Example() {
	run(os.Stdout, 5, 2)
	// Output:
	// 1² = 1
	// 2² = 4
	// 3² = 9
	// 4² = 16
	// 5² = 25
	// 5 results, sum 55
}
