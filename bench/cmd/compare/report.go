package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// report is everything one run measured; results.json is its encoding.
type report struct {
	Started   time.Time     `json:"started"`
	Finished  time.Time     `json:"finished"`
	Quick     bool          `json:"quick"`
	CPU       string        `json:"cpu"`
	Cores     int           `json:"cores"`
	Kernel    string        `json:"kernel"`
	GoVersion string        `json:"go_version"`
	Warmup    time.Duration `json:"warmup_ns"`
	Duration  time.Duration `json:"duration_ns"`
	Rounds    int           `json:"rounds"`
	IdleConns int           `json:"idle_conns"`
	Workloads []workload    `json:"workloads"`
	Servers   []serverInfo  `json:"servers"`
	Cells     []cell        `json:"cells"` // one per server × workload: the median round
	Runs      []cell        `json:"runs"`  // every round
	Idle      []idle        `json:"idle"`
	Notes     []string      `json:"notes,omitempty"`
}

type serverInfo struct {
	Name string `json:"name"`
	Desc string `json:"desc"`
	Skip string `json:"skipped,omitempty"`
}

func newReport(o *options, ss []*server) *report {
	cpu, kernel := machineInfo()
	r := &report{
		Started:   time.Now().UTC(),
		Quick:     o.quick,
		CPU:       cpu,
		Cores:     runtime.NumCPU(),
		Kernel:    kernel,
		GoVersion: runtime.Version(),
		Warmup:    o.warmup,
		Duration:  o.duration,
		Rounds:    o.rounds,
		IdleConns: o.idleConns,
		Workloads: o.workloads,
	}
	for _, s := range ss {
		r.Servers = append(r.Servers, serverInfo{Name: s.Name, Desc: s.Desc, Skip: s.skip})
	}
	return r
}

func (r *report) note(format string, a ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, a...))
}

// skip records that server was skipped after all.
func (r *report) skip(server, why string) {
	for i := range r.Servers {
		if r.Servers[i].Name == server {
			r.Servers[i].Skip = why
		}
	}
}

// aggregate sets Cells from Runs: for each server and workload, the round
// with the median msgs/s (all its figures, so they stay consistent), or the
// first failed round if one failed.
func (r *report) aggregate() {
	r.Cells = nil
	for _, s := range r.Servers {
		for _, w := range r.Workloads {
			var runs []cell
			var failed *cell
			for i := range r.Runs {
				c := &r.Runs[i]
				if c.Server != s.Name || c.Workload != w {
					continue
				}
				if c.Err != "" || c.Result == nil {
					if failed == nil {
						failed = c
					}
					continue
				}
				runs = append(runs, *c)
			}
			switch {
			case failed != nil:
				c := *failed
				c.Err = fmt.Sprintf("round %d: %s", c.Round, c.Err)
				r.Cells = append(r.Cells, c)
			case len(runs) > 0:
				sort.Slice(runs, func(i, j int) bool { return runs[i].Result.MsgsPerSec < runs[j].Result.MsgsPerSec })
				c := runs[len(runs)/2]
				c.Range = [2]float64{runs[0].Result.MsgsPerSec, runs[len(runs)-1].Result.MsgsPerSec}
				// CPU per message is the median of the rounds on its own:
				// contention from outside moves it less than msgs/s, but
				// the round with the median msgs/s need not have it.
				c.CPUPerMsg = median(runs, func(c cell) time.Duration { return c.CPUPerMsg })
				c.UserPerMsg = median(runs, func(c cell) time.Duration { return c.UserPerMsg })
				r.Cells = append(r.Cells, c)
			}
		}
	}
}

// median returns the median of f over cs (the upper one of an even count).
func median(cs []cell, f func(cell) time.Duration) time.Duration {
	ds := make([]time.Duration, len(cs))
	for i, c := range cs {
		ds[i] = f(c)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// failures counts failed measurements.
func (r *report) failures() int {
	n := 0
	for _, c := range r.Cells {
		if c.Err != "" {
			n++
		}
	}
	for _, id := range r.Idle {
		if id.Err != "" {
			n++
		}
	}
	return n
}

// cell returns the successful measurement of server at w, or nil.
func (r *report) cell(server string, w workload) *cell {
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.Server == server && c.Workload == w && c.Err == "" && c.Result != nil {
			return c
		}
	}
	return nil
}

// idleOf returns the successful idle measurement of server, or nil.
func (r *report) idleOf(server string) *idle {
	for i := range r.Idle {
		if id := &r.Idle[i]; id.Server == server && id.Err == "" {
			return id
		}
	}
	return nil
}

// ran lists the servers that were not skipped, in order.
func (r *report) ran() []string {
	var names []string
	for _, s := range r.Servers {
		if s.Skip == "" {
			names = append(names, s.Name)
		}
	}
	return names
}

// write writes results.md, results.json and the charts into dir.
func (r *report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(r.markdown()), 0o644); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return r.charts(dir)
}

// markdown renders the report: one table per workload, the idle memory
// table, the goals of issue 6 checked against the numbers, the legend.
func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	mode := "full run"
	if r.Quick {
		mode = "quick run (-quick): short windows, smoke test only"
	}
	p("<!-- Generated by `go run ./bench/cmd/compare`; edit the generator, not this file. -->\n\n")
	p("%s, %s. %s, %d cores, %s, %s. Each run: %v warm-up, then a %v measured window; "+
		"%d round(s) over all servers; each cell shows the round with the median msgs/s "+
		"(the range column spans all rounds), except CPU/msg and user/msg, the medians of the rounds. loadgen runs on the same machine as the server.\n\n",
		r.Started.Format("2006-01-02 15:04 MST"), mode, r.CPU, r.Cores, r.Kernel, r.GoVersion, r.Warmup, r.Duration, r.Rounds)
	p("Ratios compare greenhub (one hub) with each server; **above 1 means greenhub is better**: " +
		"`gh ÷ this` divides greenhub's msgs/s by the server's, `this ÷ gh` divides the server's CPU per message by greenhub's. " +
		"Server CPU is user+system time of the server process over the measured window (/proc/PID/stat, 10 ms ticks); " +
		"user/msg is its user-space part, the rest is mostly the kernel's TCP work.\n\n")

	for _, w := range r.Workloads {
		p("### %v\n\n", w)
		p("| server | msgs/s | range | MB/s | p50 | p99 | p99.9 | server CPU | CPU/msg | user/msg | RSS | msgs/s gh ÷ this | CPU/msg this ÷ gh |\n")
		p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		ref := r.cell(greenhubName, w)
		for _, name := range r.ran() {
			c := r.findAny(name, w)
			if c == nil {
				continue
			}
			if c.Err != "" || c.Result == nil {
				p("| %s | FAILED: %s |||||||||||\n", name, oneLine(c.Err))
				continue
			}
			res := c.Result
			p("| %s | %s | %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				name, groupThousands(int(res.MsgsPerSec+0.5)), fmtRange(c.Range), res.MBPerSec,
				fmtDur(res.Latency.P50), fmtDur(res.Latency.P99), fmtDur(res.Latency.P999),
				cpuCell(c), perMsgCell(c, c.CPUPerMsg), perMsgCell(c, c.UserPerMsg), fmtBytes(c.RSS),
				ratio(refMsgs(ref), res.MsgsPerSec), ratio(perMsg(c), refPerMsg(ref)))
		}
		p("\n")
	}

	if len(r.Idle) > 0 {
		p("### Memory per idle connection (%s connections)\n\n", groupThousands(r.IdleConns))
		p("Fresh server; RSS before and after opening the connections and echoing one 64-byte message on each.\n\n")
		p("| server | RSS before | RSS after | bytes per connection | this ÷ gh |\n|---|--:|--:|--:|--:|\n")
		ref := r.idleOf(greenhubName)
		for _, id := range r.Idle {
			if id.Err != "" {
				p("| %s | FAILED: %s ||||\n", id.Server, oneLine(id.Err))
				continue
			}
			refPer := 0.0
			if ref != nil {
				refPer = ref.PerConn
			}
			p("| %s | %s | %s | %s | %s |\n", id.Server, fmtBytes(id.Before), fmtBytes(id.After),
				groupThousands(int(id.PerConn+0.5)), ratio(id.PerConn, refPer))
		}
		p("\n")
	}

	p("%s", r.goals())

	p("### Servers\n\n")
	for _, s := range r.Servers {
		if s.Skip != "" {
			p("- **%s** (%s): skipped: %s\n", s.Name, s.Desc, oneLine(s.Skip))
		} else {
			p("- **%s**: %s\n", s.Name, s.Desc)
		}
	}
	if len(r.Notes) > 0 {
		p("\nNotes:\n\n")
		for _, n := range r.Notes {
			p("- %s\n", oneLine(n))
		}
	}
	return b.String()
}

// findAny returns server's measurement at w, failed or not.
func (r *report) findAny(server string, w workload) *cell {
	for i := range r.Cells {
		if c := &r.Cells[i]; c.Server == server && c.Workload == w {
			return c
		}
	}
	return nil
}

// A goal of issue 6, checked against the measurements.
type goal struct {
	text     string
	measured string
	met      string // "yes", "no", or "—" when a number is missing
}

// goals checks the targets of issue 6 that this run can check.
func (r *report) goals() string {
	var gs []goal
	yesNo := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	var (
		gnet1   = "gnet-1loop"
		std1    = "stdlib-P1"
		pythons = []string{"eventlet", "gevent"}
		small   []workload
	)
	for _, w := range r.Workloads {
		if w.Size == 64 && w.Inflight == 1 && (w.Conns == 100 || w.Conns == 1000) {
			small = append(small, w)
		}
	}
	for _, w := range small {
		gh := r.cell(greenhubName, w)
		cmp := func(text, peer string, minRatio float64, cpuMax float64) {
			pc := r.cell(peer, w)
			g := goal{text: fmt.Sprintf("%s, %v", text, w), measured: "—", met: "—"}
			if gh != nil && pc != nil {
				rm := gh.Result.MsgsPerSec / pc.Result.MsgsPerSec
				g.measured = fmt.Sprintf("%.2f×", rm)
				ok := rm >= minRatio
				if cpuMax > 0 && gh.CPUOK && pc.CPUOK && pc.CPUPerMsg > 0 {
					rc := float64(gh.CPUPerMsg) / float64(pc.CPUPerMsg)
					g.measured += fmt.Sprintf(", CPU/msg %.2f×", rc)
					ok = ok && rc <= cpuMax
				}
				g.met = yesNo(ok)
			}
			gs = append(gs, g)
		}
		cmp("msgs/s ≥ 1.0× gnet-1loop and CPU/msg ≤ 1.0× its", gnet1, 1.0, 1.0)
		cmp("msgs/s ≥ 1.0× stdlib-P1", std1, 1.0, 0)
		for _, py := range pythons {
			cmp(fmt.Sprintf("msgs/s ≥ 2.5× %s and CPU/msg ≤ 0.2× its", py), py, 2.5, 0.2)
		}
	}
	for _, w := range r.Workloads {
		gh, gn := r.cell(greenhubName, w), r.cell(gnet1, w)
		g := goal{text: fmt.Sprintf("p99 ≤ gnet-1loop's, %v", w), measured: "—", met: "—"}
		if gh != nil && gn != nil {
			g.measured = fmt.Sprintf("%s vs %s", fmtDur(gh.Result.Latency.P99), fmtDur(gn.Result.Latency.P99))
			g.met = yesNo(gh.Result.Latency.P99 <= gn.Result.Latency.P99)
		}
		gs = append(gs, g)
	}
	if len(r.Idle) > 0 {
		gh, st := r.idleOf(greenhubName), r.idleOf(std1)
		g := goal{text: "RSS per idle connection ≤ stdlib-P1's", measured: "—", met: "—"}
		s := goal{text: "stretch: RSS per idle connection ≤ 4 KiB", measured: "—", met: "—"}
		if gh != nil {
			s.measured = fmt.Sprintf("%.0f B", gh.PerConn)
			s.met = yesNo(gh.PerConn <= 4096)
			if st != nil {
				g.measured = fmt.Sprintf("%.0f B vs %.0f B", gh.PerConn, st.PerConn)
				g.met = yesNo(gh.PerConn <= st.PerConn)
			}
		}
		gs = append(gs, g, s)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "### Goals of issue 6 (greenhub with one hub)\n\n| goal | measured | met |\n|---|---|---|\n")
	for _, g := range gs {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", g.text, g.measured, g.met)
	}
	b.WriteString("\n")
	return b.String()
}

func refMsgs(c *cell) float64 {
	if c == nil {
		return 0
	}
	return c.Result.MsgsPerSec
}

func perMsg(c *cell) float64 {
	if c == nil || !c.CPUOK {
		return 0
	}
	return float64(c.CPUPerMsg)
}

func refPerMsg(c *cell) float64 { return perMsg(c) }

// ratio formats a/b, or "—" when either is missing.
func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func cpuCell(c *cell) string {
	if !c.CPUOK {
		return "n/a"
	}
	return fmt.Sprintf("%.2f s", c.CPU.Seconds())
}

func perMsgCell(c *cell, d time.Duration) string {
	if !c.CPUOK || c.CPUPerMsg == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f µs", float64(d)/1e3)
}

// fmtRange prints a msgs/s range in thousands: "41.2k–45.0k".
func fmtRange(r [2]float64) string {
	if r[1] == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1fk–%.1fk", r[0]/1e3, r[1]/1e3)
}

// fmtDur prints a latency with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// fmtBytes prints a size in MiB.
func fmtBytes(n int64) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// scrub replaces local paths (the module root, the build directory) in
// messages that end up in the report; compare sets it once both are known.
var scrub = strings.NewReplacer()

func oneLine(s string) string {
	s = scrub.Replace(s)
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
