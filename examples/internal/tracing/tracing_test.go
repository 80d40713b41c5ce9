package tracing

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/service"
	"github.com/greenhub/greenhub/timeline"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" { // TestWorkerPath's worker process
		tr := Register(flag.NewFlagSet("child", flag.ExitOnError))
		tr.path = "run.json"
		fmt.Print(tr.Path(3))
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

const envChild = "TRACING_TEST_CHILD"

// A worker process of a ProcessLauncher writes FILE.w<index>.
func TestWorkerPath(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envChild+"=1",
		service.EnvWorker+"=2", service.EnvService+"=0", service.EnvFiles+"=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != "run.json.w2" {
		t.Errorf("worker 2 traces to %q, want run.json.w2", got)
	}
}

// -trace FILE gives options that trace every hub into FILE; without it,
// none and no file.
func TestTrace(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		workers int
		want    string // the file written, "" for none
	}{
		{"off", nil, 1, ""},
		{"on", []string{"-trace", filepath.Join(dir, "run.json")}, 1, "run.json"},
		{"parent of workers", []string{"-trace", filepath.Join(dir, "parent.json")}, 2, ""},
	}
	written := func() []string {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		return files
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			tr := Register(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			before := len(written())
			opts, err := tr.Start(tt.workers)
			if err != nil {
				t.Fatal(err)
			}
			if (len(opts) > 0) != (tt.want != "") {
				t.Errorf("%d options", len(opts))
			}
			g := hub.NewGroup(2, opts...)
			if err := g.Run(func(h *hub.Hub, i int) error { return h.Raw().Yield() }); err != nil {
				t.Fatal(err)
			}
			if err := tr.Close(); err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if files := written(); len(files) != before {
					t.Errorf("files written: %v", files)
				}
				return
			}
			data, err := os.ReadFile(filepath.Join(dir, tt.want))
			if err != nil {
				t.Fatal(err)
			}
			trace, err := timeline.Read(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			hubs := map[int]bool{}
			for _, track := range trace.Tracks {
				hubs[track.PID] = true
			}
			if len(hubs) != 2 {
				t.Errorf("hubs in the trace: %v, want 2", hubs)
			}
		})
	}
}
