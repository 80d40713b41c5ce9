package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// trace is a greenlet-like run in the trace format: main switches to gr1,
// gr1 to gr2 and back, and gr1 returns to main.
const trace = `{"displayTimeUnit":"ns","traceEvents":[
{"ph":"M","name":"thread_name","pid":1,"tid":1,"args":{"name":"main"}},
{"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"gr1"}},
{"ph":"M","name":"thread_name","pid":1,"tid":3,"args":{"name":"gr2"}},
{"ph":"X","cat":"run","name":"main","pid":1,"tid":1,"ts":1,"dur":1},
{"ph":"i","s":"t","cat":"sched","name":"switch","pid":1,"tid":1,"ts":2,"args":{"to":2}},
{"ph":"X","cat":"run","name":"gr1","pid":1,"tid":2,"ts":2,"dur":1},
{"ph":"i","s":"t","cat":"sched","name":"switch","pid":1,"tid":2,"ts":3,"args":{"to":3}},
{"ph":"X","cat":"run","name":"gr2","pid":1,"tid":3,"ts":3,"dur":1},
{"ph":"i","s":"t","cat":"sched","name":"switch","pid":1,"tid":3,"ts":4,"args":{"to":2}},
{"ph":"X","cat":"run","name":"gr1","pid":1,"tid":2,"ts":4,"dur":1},
{"ph":"i","s":"t","cat":"sched","name":"switch","pid":1,"tid":2,"ts":5,"args":{"to":1}},
{"ph":"X","cat":"run","name":"main","pid":1,"tid":1,"ts":5,"dur":1}
]}`

func writeTrace(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "run.json")
	if err := os.WriteFile(path, []byte(trace), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// svgTexts returns the texts of an SVG file, failing if it is not XML.
func svgTexts(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	dec := xml.NewDecoder(bytes.NewReader(data))
	in := false
	for {
		tok, err := dec.Token()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("%s is not XML: %v", path, err)
			}
			return texts
		}
		switch el := tok.(type) {
		case xml.StartElement:
			in = el.Name.Local == "text"
		case xml.CharData:
			if in {
				texts = append(texts, string(el))
			}
		case xml.EndElement:
			in = false
		}
	}
}

func TestRun(t *testing.T) {
	dir, path := writeTrace(t)
	cut := filepath.Join(dir, "cut.json")
	if err := os.WriteFile(cut, []byte(strings.TrimSuffix(trace, "\n]}")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		status int
		out    string // the picture written, relative to dir
		magic  string // its first bytes
		texts  []string
		stderr string
	}{
		{name: "svg beside the trace", args: []string{path}, out: "run.svg", magic: "<?xml", texts: []string{"main", "gr1", "gr2", "switch"}},
		{name: "in order, titled", args: []string{"-order", "-title", "greenlets", "-o", filepath.Join(dir, "order.svg"), path}, out: "order.svg", magic: "<?xml",
			texts: []string{"greenlets", "events in order: each step is the next event, not a length of time"}},
		{name: "png by extension", args: []string{"-o", filepath.Join(dir, "run.png"), path}, out: "run.png", magic: "\x89PNG"},
		{name: "a lane limit says what it left out", args: []string{"-lanes", "2", "-o", filepath.Join(dir, "two.svg"), path}, out: "two.svg", magic: "<?xml",
			texts: []string{"main", "gr1"}, stderr: "1 lanes left out (-lanes 2)"},
		{name: "a window", args: []string{"-from", "3us", "-to", "4us", "-o", filepath.Join(dir, "window.svg"), path}, out: "window.svg", magic: "<?xml", texts: []string{"gr1", "gr2"}},
		{name: "a trace cut short", args: []string{"-o", filepath.Join(dir, "cut.svg"), cut}, out: "cut.svg", magic: "<?xml",
			texts: []string{"main", "gr1"}, stderr: "ends early (was the tracer closed?)"},
		{name: "no trace", args: []string{}, status: 2, stderr: "usage: timeline"},
		{name: "bad flag", args: []string{"-bogus", path}, status: 2, stderr: "flag provided but not defined"},
		{name: "missing file", args: []string{filepath.Join(dir, "none.json")}, status: 1, stderr: "no such file"},
		{name: "unknown format", args: []string{"-o", filepath.Join(dir, "run.gif"), path}, status: 1, stderr: "timeline:"},
		{name: "empty window", args: []string{"-from", "1s", "-o", filepath.Join(dir, "empty.svg"), path}, status: 1, stderr: "no events to draw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := run(tt.args, &stderr); got != tt.status {
				t.Fatalf("run(%q) = %d, want %d; stderr: %s", tt.args, got, tt.status, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q does not say %q", stderr.String(), tt.stderr)
			}
			if tt.out == "" {
				return
			}
			out := filepath.Join(dir, tt.out)
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte(tt.magic)) {
				t.Errorf("%s starts with %q, want %q", tt.out, data[:min(8, len(data))], tt.magic)
			}
			if len(tt.texts) > 0 {
				texts := svgTexts(t, out)
				for _, want := range tt.texts {
					if !slices.Contains(texts, want) {
						t.Errorf("%s has no text %q: %q", tt.out, want, texts)
					}
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "run.gif")); !os.IsNotExist(err) {
		t.Errorf("a failed run left its output: %v", err)
	}
}
