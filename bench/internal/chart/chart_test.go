package chart

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestThousands(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{n: 0, want: "0"},
		{n: 999, want: "999"},
		{n: 1000, want: "1,000"},
		{n: 1234567, want: "1,234,567"},
		{n: -1234, want: "-1,234"},
	} {
		if got := Thousands(tc.n); got != tc.want {
			t.Errorf("Thousands(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestTicksLabels(t *testing.T) {
	for _, tick := range (Ticks{}).Ticks(0, 25000) {
		if tick.Label == "" {
			continue
		}
		if tick.Value >= 10000 && !strings.Contains(tick.Label, ",") {
			t.Errorf("tick %v labelled %q, want a thousands separator", tick.Value, tick.Label)
		}
	}
}

func TestGroupedBarsSave(t *testing.T) {
	labels := []string{"a", "b", "c"}
	names := []string{"x", "y"}
	p, err := GroupedBars("title", "units", labels, names, func(name string, group int) (float64, bool) {
		return float64(group + 1), name != "y" || group != 1 // one missing bar
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := LegendRoom(len(names)) * 3; math.Abs(p.Y.Max-want) > 1e-9 {
		t.Errorf("Y.Max = %v, want %v: LegendRoom × the tallest bar", p.Y.Max, want)
	}
	if LegendRoom(10) <= LegendRoom(2) {
		t.Error("LegendRoom does not grow with the legend")
	}
	file := filepath.Join(t.TempDir(), "c.svg")
	if err := Save(p, file, Width(len(labels))); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "title") {
		t.Errorf("%s is not an SVG chart titled %q", file, "title")
	}
}
