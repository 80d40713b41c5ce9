// Package chart draws the benchmark commands' charts with gonum/plot:
// grouped bar charts with readable tick labels, saved as SVG (or any format
// gonum/plot knows by the file's extension). bench/cmd/compare and
// bench/study share it.
//
// Every function may be called from any goroutine; a *plot.Plot is not safe
// for concurrent use.
package chart

import (
	"fmt"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Height is the height of every chart.
const Height = 4.5 * vg.Inch

// GroupedBars returns a chart with one group of bars per label and one bar
// per name in each group, in names' order and colours. value returns the
// bar of a name in group i, or false for a failed or missing measurement,
// drawn as no bar. The y axis starts at 0 and leaves room for the legend
// at the top (LegendRoom).
func GroupedBars(title, ylabel string, labels, names []string, value func(name string, group int) (float64, bool)) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	// Bars of one group fill 80% of the space between group centres.
	plotWidth := Width(len(labels)) - vg.Inch
	width := 0.8 * plotWidth / vg.Length(max(1, len(labels)*len(names)))
	top := 0.0
	for i, name := range names {
		vs := make(plotter.Values, len(labels))
		for j := range labels {
			if v, ok := value(name, j); ok {
				vs[j] = v
				top = max(top, vs[j])
			}
		}
		bars, err := plotter.NewBarChart(vs, width)
		if err != nil {
			return nil, fmt.Errorf("chart %q: %w", title, err)
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(i)
		bars.Offset = width * vg.Length(float64(i)-float64(len(names)-1)/2)
		p.Add(bars)
		p.Legend.Add(name, bars)
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
	if top == 0 {
		top = 1
	}
	p.Y.Max = LegendRoom(len(names)) * top
	p.Y.Tick.Marker = Ticks{}
	return p, nil
}

// LegendRoom is how far above the tallest bar the y axis of a chart with
// n names in its legend goes, as a factor of that bar: the legend, at the
// top, takes a line per name.
func LegendRoom(n int) float64 { return 1.2 + 0.06*float64(n) }

// Width is the width of a chart with n groups of bars.
func Width(n int) vg.Length {
	return vg.Length(max(7, 2.5*float64(n))) * vg.Inch
}

// Ticks labels gonum/plot's default ticks with thousands separators and no
// trailing zeros.
type Ticks struct{}

// Ticks implements plot.Ticker.
func (Ticks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label == "" {
			continue
		}
		v := ts[i].Value
		if v == float64(int64(v)) && v >= 1000 {
			ts[i].Label = Thousands(int(v))
		} else {
			ts[i].Label = strconv.FormatFloat(v, 'g', 4, 64)
		}
	}
	return ts
}

// Save writes p to file, w wide and Height high, in the format file's
// extension names.
func Save(p *plot.Plot, file string, w vg.Length) error {
	if err := p.Save(w, Height, file); err != nil {
		return fmt.Errorf("chart %s: %w", file, err)
	}
	return nil
}

// Thousands formats n with a comma between groups of three digits:
// 1234567 is "1,234,567".
func Thousands(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
