package tracing

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/service"
	"github.com/greenhub/greenhub/timeline"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envChild); dir != "" { // TestWorkerFiles's worker process
		if err := traceWorker(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// envChild names the directory TestWorkerFiles's worker process traces into.
const envChild = "TRACING_TEST_CHILD"

// traceWorker is a worker process of -workers 3: it traces a hub into dir
// with both flags.
func traceWorker(dir string) error {
	fs := flag.NewFlagSet("child", flag.ContinueOnError)
	tr := Register(fs)
	if err := fs.Parse([]string{"-trace", filepath.Join(dir, "run.json"), "-exectrace", filepath.Join(dir, "run.trace")}); err != nil {
		return err
	}
	opts, err := tr.Start(3)
	if err != nil {
		return err
	}
	err = hub.New(opts...).Run(func() error { return nil })
	return errors.Join(err, tr.Close())
}

// A worker process of a ProcessLauncher writes FILE.w<index>, for both
// flags.
func TestWorkerFiles(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envChild+"="+dir,
		service.EnvWorker+"=2", service.EnvService+"=0", service.EnvFiles+"=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if want := []string{"run.json.w2", "run.trace.w2"}; !slices.Equal(got, want) {
		t.Errorf("worker 2 wrote %q, want %q", got, want)
	}
}

// -trace FILE gives options that trace every hub into FILE, -exectrace
// FILE an execution trace with the green threads as tasks; without them,
// none and no file.
func TestTrace(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		workers    int
		chromeFile string // the Chrome trace written, "" for none
		execFile   string // the execution trace written, "" for none
	}{
		{"off", nil, 1, "", ""},
		{"chrome", []string{"-trace", filepath.Join(dir, "run.json")}, 1, "run.json", ""},
		{"exec", []string{"-exectrace", filepath.Join(dir, "run.trace")}, 1, "", "run.trace"},
		{"both", []string{"-trace", filepath.Join(dir, "both.json"), "-exectrace", filepath.Join(dir, "both.trace")}, 1, "both.json", "both.trace"},
		{"parent of workers", []string{"-trace", filepath.Join(dir, "parent.json"), "-exectrace", filepath.Join(dir, "parent.trace")}, 2, "", ""},
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
			if (len(opts) > 0) != (tt.chromeFile != "" || tt.execFile != "") {
				t.Errorf("%d options", len(opts))
			}
			g := hub.NewGroup(2, opts...)
			if err := g.Run(func(h *hub.Hub, i int) error { return h.Raw().Yield() }); err != nil {
				t.Fatal(err)
			}
			if err := tr.Close(); err != nil {
				t.Fatal(err)
			}
			if files := written(); len(files) != before+len(slices.DeleteFunc([]string{tt.chromeFile, tt.execFile}, func(f string) bool { return f == "" })) {
				t.Errorf("files written: %v", files)
			}
			if tt.chromeFile != "" {
				checkChrome(t, filepath.Join(dir, tt.chromeFile))
			}
			if tt.execFile != "" {
				checkExec(t, filepath.Join(dir, tt.execFile))
			}
		})
	}
}

// checkChrome checks that file is a Chrome trace of two hubs.
func checkChrome(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
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
}

// checkExec checks that file is a Go execution trace with the green
// threads' tasks in it.
func checkExec(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("go 1.")) {
		t.Errorf("%s starts with %q, not a Go execution trace's header", file, data[:min(len(data), 16)])
	}
	if !bytes.Contains(data, []byte("greenhub.G")) {
		t.Errorf("%s (%d bytes) has no task of type greenhub.G", file, len(data))
	}
}
