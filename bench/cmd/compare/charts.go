package main

import (
	"fmt"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// charts draws the SVG charts into dir: for the echo comparison
// throughput, server CPU per message and p99 latency as bars grouped by
// workload, and RSS per idle connection; for the HTTP comparison
// throughput, p99 latency and server CPU per request, grouped by
// connection count.
func (r *report) charts(dir string) error {
	if err := r.echoCharts(dir); err != nil {
		return err
	}
	return r.httpCharts(dir)
}

func (r *report) echoCharts(dir string) error {
	names := r.ran()
	if len(names) == 0 {
		return nil
	}
	var labels []string
	for _, w := range r.Workloads {
		labels = append(labels, w.String())
	}
	metric := func(file, title, ylabel string, value func(*cell) float64) error {
		return groupedBars(filepath.Join(dir, file), title, ylabel, labels, names, func(name string, group int) (float64, bool) {
			if c := r.cell(name, r.Workloads[group]); c != nil {
				return value(c), true
			}
			return 0, false
		})
	}
	if err := metric("throughput.svg", "Echo throughput (higher is better)", "messages per second",
		func(c *cell) float64 { return c.Result.MsgsPerSec }); err != nil {
		return err
	}
	if err := metric("cpu_per_msg.svg", "Server CPU per message (lower is better)", "µs of user+system CPU",
		func(c *cell) float64 { return perMsg(c) / 1e3 }); err != nil {
		return err
	}
	if err := metric("latency_p99.svg", "p99 round-trip latency (lower is better)", "milliseconds",
		func(c *cell) float64 { return float64(c.Result.Latency.P99) / 1e6 }); err != nil {
		return err
	}
	if len(r.Idle) > 0 {
		return r.memoryBars(filepath.Join(dir, "memory_per_conn.svg"))
	}
	return nil
}

func (r *report) httpCharts(dir string) error {
	names := r.httpRan()
	if len(names) == 0 || len(r.HTTPConns) == 0 {
		return nil
	}
	var labels []string
	for _, n := range r.HTTPConns {
		labels = append(labels, "GET /hello, "+groupThousands(n)+" conns")
	}
	metric := func(file, title, ylabel string, value func(*httpCell) float64) error {
		return groupedBars(filepath.Join(dir, file), title, ylabel, labels, names, func(name string, group int) (float64, bool) {
			if c := r.httpCell(name, r.HTTPConns[group]); c != nil {
				return value(c), true
			}
			return 0, false
		})
	}
	if err := metric("http_throughput.svg", "HTTP throughput (higher is better)", "requests per second",
		func(c *httpCell) float64 { return c.Wrk.ReqPerSec }); err != nil {
		return err
	}
	if err := metric("http_latency_p99.svg", "HTTP p99 latency (lower is better)", "milliseconds",
		func(c *httpCell) float64 { return float64(c.Wrk.P99) / 1e6 }); err != nil {
		return err
	}
	return metric("http_cpu_per_req.svg", "Server CPU per HTTP request (lower is better)", "µs of user+system CPU",
		func(c *httpCell) float64 { return cpuPerReq(c) / 1e3 })
}

// groupedBars draws one group of bars per label, one bar per server;
// value returns the bar of a server in a group, or false for a failed or
// missing measurement, drawn as no bar.
func groupedBars(file, title, ylabel string, labels, names []string, value func(name string, group int) (float64, bool)) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	// Bars of one group fill 80% of the space between group centres.
	plotWidth := chartWidth(len(labels)) - vg.Inch
	width := 0.8 * plotWidth / vg.Length(len(labels)*len(names))
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
			return fmt.Errorf("%s: %w", file, err)
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(i)
		bars.Offset = width * vg.Length(float64(i)-float64(len(names)-1)/2)
		p.Add(bars)
		p.Legend.Add(name, bars)
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
	p.Y.Max = 1.35 * top // room for the legend
	p.Y.Tick.Marker = readableTicks{}
	return save(p, file, chartWidth(len(labels)))
}

// chartWidth is the width of a chart with n groups of bars.
func chartWidth(n int) vg.Length {
	return vg.Length(max(7, 2.5*float64(n))) * vg.Inch
}

// readableTicks labels the default ticks with thousands separators and no
// trailing zeros.
type readableTicks struct{}

func (readableTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label == "" {
			continue
		}
		v := ts[i].Value
		if v == float64(int64(v)) && v >= 1000 {
			ts[i].Label = groupThousands(int(v))
		} else {
			ts[i].Label = strconv.FormatFloat(v, 'g', 4, 64)
		}
	}
	return ts
}

// memoryBars draws the RSS per idle connection of each server, with the
// 4 KiB stretch goal as a dashed line.
func (r *report) memoryBars(file string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("RSS per idle connection, %s connections (lower is better)", groupThousands(r.IdleConns))
	p.Y.Label.Text = "KiB"
	p.Y.Min = 0
	var (
		labels []string
		vs     plotter.Values
		top    = 4.0
	)
	for _, id := range r.Idle {
		labels = append(labels, id.Server)
		v := 0.0
		if id.Err == "" {
			v = id.PerConn / 1024
		}
		vs = append(vs, v)
		top = max(top, v)
	}
	bars, err := plotter.NewBarChart(vs, 0.6*6*vg.Inch/vg.Length(max(1, len(vs))))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	bars.LineStyle.Width = 0
	bars.Color = plotutil.Color(0)
	p.Add(plotter.NewGrid(), bars)
	stretch := plotter.NewFunction(func(float64) float64 { return 4 })
	stretch.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	stretch.Color = plotutil.Color(1)
	p.Add(stretch)
	p.Legend.Add("stretch goal: 4 KiB", stretch)
	p.Legend.Top = true
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
	p.Y.Max = 1.25 * top
	p.Y.Tick.Marker = readableTicks{}
	p.X.Tick.Label.Rotation = 0.4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	return save(p, file, 7*vg.Inch)
}

func save(p *plot.Plot, file string, w vg.Length) error {
	if err := p.Save(w, 4.5*vg.Inch, file); err != nil {
		return fmt.Errorf("chart %s: %w", file, err)
	}
	return nil
}
