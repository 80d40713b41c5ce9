package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/greenhub/greenhub/timeline"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) != "" { // the program itself, for TestTraceFlag
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// envRunMain makes the test binary run the program: its arguments are the
// program's.
const envRunMain = "GREENLET_RUN_MAIN"

// The program run with -trace FILE writes a trace that shows the dance:
// main, gr1, gr2, gr1, main.
func TestTraceFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "greenlet.json")
	cmd := exec.Command(os.Args[0], "-trace", path)
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	if string(out) != "12\n56\n34\n" {
		t.Errorf("output %q", out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := timeline.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var hops []string
	for _, s := range tr.Switches() {
		hops = append(hops, s.From.Name+">"+s.To.Name)
	}
	want := []string{"hub>main", "main>gr1", "gr1>gr2", "gr2>gr1", "gr1>main"}
	if len(hops) < len(want) || !slices.Equal(hops[:len(want)], want) {
		t.Errorf("switches %q, want %q first", hops, want)
	}
}
