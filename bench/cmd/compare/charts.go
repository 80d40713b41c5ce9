package main

import (
	"fmt"
	"path/filepath"

	"github.com/greenhub/greenhub/bench/internal/chart"

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

// groupedBars draws one group of bars per label, one bar per server, into
// file (chart.GroupedBars).
func groupedBars(file, title, ylabel string, labels, names []string, value func(name string, group int) (float64, bool)) error {
	p, err := chart.GroupedBars(title, ylabel, labels, names, value)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return chart.Save(p, file, chart.Width(len(labels)))
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
	p.Y.Tick.Marker = chart.Ticks{}
	p.X.Tick.Label.Rotation = 0.4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	return chart.Save(p, file, 7*vg.Inch)
}
