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
	CPUs      int           `json:"cpus,omitempty"` // -cpus: the many-core variants' count; 0 in results.json from before it
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

	// The HTTP mode's part (empty in an echo-only run): the connection
	// counts, the servers, one median cell per server × count, every
	// round, and why the HTTP mode was skipped if it was.
	Mode        string       `json:"mode,omitempty"` // -mode; "" in results.json from before the HTTP mode
	HTTPConns   []int        `json:"http_conns,omitempty"`
	HTTPServers []serverInfo `json:"http_servers,omitempty"`
	HTTPCells   []httpCell   `json:"http_cells,omitempty"`
	HTTPRuns    []httpCell   `json:"http_runs,omitempty"`
	HTTPSkip    string       `json:"http_skipped,omitempty"`
	WrkVersion  string       `json:"wrk_version,omitempty"`
}

type serverInfo struct {
	Name string `json:"name"`
	Desc string `json:"desc"`
	Skip string `json:"skipped,omitempty"`
}

// newReport starts the report of a run of the echo servers ss and the HTTP
// servers hs.
func newReport(o *options, ss, hs []*server) *report {
	cpu, kernel := machineInfo()
	r := &report{
		Started:   time.Now().UTC(),
		Quick:     o.quick,
		CPU:       cpu,
		Cores:     runtime.NumCPU(),
		CPUs:      o.cpus,
		Kernel:    kernel,
		GoVersion: runtime.Version(),
		Warmup:    o.warmup,
		Duration:  o.duration,
		Rounds:    o.rounds,
		Mode:      o.mode,
	}
	if len(ss) > 0 {
		r.IdleConns, r.Workloads = o.idleConns, o.workloads
	}
	for _, s := range ss {
		r.Servers = append(r.Servers, serverInfo{Name: s.Name, Desc: s.Desc, Skip: s.skip})
	}
	if len(hs) > 0 {
		r.HTTPConns = o.httpConns
	}
	for _, s := range hs {
		r.HTTPServers = append(r.HTTPServers, serverInfo{Name: s.Name, Desc: s.Desc, Skip: s.skip})
	}
	return r
}

func (r *report) note(format string, a ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, a...))
}

// skip records that echo server was skipped after all.
func (r *report) skip(server, why string) { skipIn(r.Servers, server, why) }

// skipHTTP records that HTTP server was skipped after all.
func (r *report) skipHTTP(server, why string) { skipIn(r.HTTPServers, server, why) }

func skipIn(ss []serverInfo, server, why string) {
	for i := range ss {
		if ss[i].Name == server {
			ss[i].Skip = why
		}
	}
}

// roundsOf picks the rounds of one cell out of all the runs (match): those
// that succeeded, and the first that failed (nil if none did).
func roundsOf[C any](all []C, match, failed func(*C) bool) (ok []C, firstFailed *C) {
	for i := range all {
		c := &all[i]
		switch {
		case !match(c):
		case failed(c):
			if firstFailed == nil {
				firstFailed = c
			}
		default:
			ok = append(ok, *c)
		}
	}
	return ok, firstFailed
}

// aggregate sets Cells from Runs: for each server and workload, the round
// with the median msgs/s (all its figures, so they stay consistent), or the
// first failed round if one failed.
func (r *report) aggregate() {
	r.Cells = nil
	for _, s := range r.Servers {
		for _, w := range r.Workloads {
			runs, failed := roundsOf(r.Runs,
				func(c *cell) bool { return c.Server == s.Name && c.Workload == w },
				func(c *cell) bool { return c.Err != "" || c.Result == nil })
			switch {
			case failed != nil:
				c := *failed
				c.Err = fmt.Sprintf("round %d: %s", c.Round, c.Err)
				r.Cells = append(r.Cells, c)
			case len(runs) > 0:
				c, lo, hi := medianRound(runs, func(c cell) float64 { return c.Result.MsgsPerSec })
				c.Range = [2]float64{lo, hi}
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

// medianRound sorts runs by key and returns the one with the median key
// (the upper one of an even count), and the lowest and highest key.
func medianRound[T any](runs []T, key func(T) float64) (mid T, lo, hi float64) {
	sort.Slice(runs, func(i, j int) bool { return key(runs[i]) < key(runs[j]) })
	return runs[len(runs)/2], key(runs[0]), key(runs[len(runs)-1])
}

// median returns the median of f over cs (the upper one of an even count).
func median[T any](cs []T, f func(T) time.Duration) time.Duration {
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
	for _, c := range r.HTTPCells {
		if c.Err != "" {
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

// markdown renders the report: the echo comparison, the HTTP comparison
// (each when it ran), the notes.
func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("<!-- Generated by `go run ./bench/cmd/compare`; edit the generator, not this file. -->\n\n")
	if len(r.Servers) > 0 {
		r.echoMarkdown(&b)
	} else {
		p("%s\n\n", r.runLine())
	}
	if len(r.HTTPServers) > 0 || r.HTTPSkip != "" {
		blankLine(&b)
		r.httpMarkdown(&b)
	}
	if len(r.Notes) > 0 {
		blankLine(&b)
		p("Notes:\n\n")
		for _, n := range r.Notes {
			p("- %s\n", oneLine(n))
		}
	}
	return b.String()
}

// runLine is the report's first sentence: when, which mode, the machine.
func (r *report) runLine() string {
	mode := "full run"
	if r.Quick {
		mode = "quick run (-quick): short windows, smoke test only"
	}
	return fmt.Sprintf("%s, %s. %s, %d cores, %s, %s.",
		r.Started.Format("2006-01-02 15:04 MST"), mode, r.CPU, r.Cores, r.Kernel, r.GoVersion)
}

// echoMarkdown writes the echo comparison: one table per workload, the
// idle memory table, the goals of issue 6 checked against the numbers, the
// legend.
func (r *report) echoMarkdown(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("%s Each run: %v warm-up, then a %v measured window; "+
		"%d round(s) over all servers; each cell shows the round with the median msgs/s "+
		"(the range column spans all rounds), except CPU/msg and user/msg, the medians of the rounds. loadgen runs on the same machine as the server and shares its cores, which bounds msgs/s; CPU per message is the server's own and is not distorted by it.\n\n",
		r.runLine(), r.Warmup, r.Duration, r.Rounds)
	p("Ratios compare greenhub (one hub) with each server; **above 1 means greenhub is better**: " +
		"`gh ÷ this` divides greenhub's msgs/s by the server's, `this ÷ gh` divides the server's CPU per message by greenhub's. " +
		"Server CPU is user+system time of the server process (with its worker processes, if any) over the measured window (/proc/PID/stat, 10 ms ticks); " +
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
	p("%s", r.goalsMulti())

	p("### Servers\n\n")
	legend(b, r.Servers)
}

// blankLine ends the paragraph or list b ends with, unless it is ended.
func blankLine(b *strings.Builder) {
	if !strings.HasSuffix(b.String(), "\n\n") {
		b.WriteString("\n")
	}
}

// legend lists servers, with why each skipped one was skipped.
func legend(b *strings.Builder, ss []serverInfo) {
	for _, s := range ss {
		if s.Skip != "" {
			fmt.Fprintf(b, "- **%s** (%s): skipped: %s\n", s.Name, s.Desc, oneLine(s.Skip))
		} else {
			fmt.Fprintf(b, "- **%s**: %s\n", s.Name, s.Desc)
		}
	}
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

	return goalTable("Goals of issue 6 (greenhub with one hub)", gs)
}

// goalsMulti checks the targets of issue 12 for greenhub with one hub per
// CPU (N of them) against the peers using as many: at 100 and 1,000
// connections × 64 B, msgs/s ≥ 1.0× gnet-Nloops' and stdlib-PN's, p99 no
// worse than gnet-Nloops', server CPU per message ≤ gnet-Nloops'. It is
// empty when the run measured none of them.
func (r *report) goalsMulti() string {
	n := r.CPUs
	if n == 0 {
		n = r.Cores
	}
	var (
		gh   = greenhubMultiName(n)
		gnet = fmt.Sprintf("gnet-%dloops", n)
		std  = fmt.Sprintf("stdlib-P%d", n)
		gs   []goal
		any  bool
	)
	yesNo := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	for _, w := range r.Workloads {
		if w.Size != 64 || w.Inflight != 1 || (w.Conns != 100 && w.Conns != 1000) {
			continue
		}
		c, cg, cs := r.cell(gh, w), r.cell(gnet, w), r.cell(std, w)
		any = any || c != nil
		missing := func(text string) goal { return goal{text: fmt.Sprintf("%s, %v", text, w), measured: "—", met: "—"} }

		g := missing("msgs/s ≥ 1.0× " + gnet)
		if c != nil && cg != nil {
			rm := c.Result.MsgsPerSec / cg.Result.MsgsPerSec
			g.measured, g.met = fmt.Sprintf("%.2f×", rm), yesNo(rm >= 1)
		}
		gs = append(gs, g)

		g = missing("msgs/s ≥ 1.0× " + std)
		if c != nil && cs != nil {
			rm := c.Result.MsgsPerSec / cs.Result.MsgsPerSec
			g.measured, g.met = fmt.Sprintf("%.2f×", rm), yesNo(rm >= 1)
		}
		gs = append(gs, g)

		g = missing("p99 ≤ " + gnet + "'s")
		if c != nil && cg != nil {
			g.measured = fmt.Sprintf("%s vs %s", fmtDur(c.Result.Latency.P99), fmtDur(cg.Result.Latency.P99))
			g.met = yesNo(c.Result.Latency.P99 <= cg.Result.Latency.P99)
		}
		gs = append(gs, g)

		g = missing("CPU/msg ≤ " + gnet + "'s")
		if c != nil && cg != nil && perMsg(c) > 0 && perMsg(cg) > 0 {
			g.measured = fmt.Sprintf("%.2f× (%s vs %s)", perMsg(c)/perMsg(cg),
				fmtPerOp(true, c.CPUPerMsg, c.CPUPerMsg), fmtPerOp(true, cg.CPUPerMsg, cg.CPUPerMsg))
			g.met = yesNo(c.CPUPerMsg <= cg.CPUPerMsg)
		}
		gs = append(gs, g)
	}
	if !any {
		return ""
	}
	return goalTable(fmt.Sprintf("Goals of issue 12 (%s: greenhub with one hub per CPU)", gh), gs)
}

// goalTable renders goals as a table under a heading.
func goalTable(title string, gs []goal) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n| goal | measured | met |\n|---|---|---|\n", title)
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

func cpuCell(c *cell) string { return fmtCPU(c.CPUOK, c.CPU) }

func perMsgCell(c *cell, d time.Duration) string { return fmtPerOp(c.CPUOK, c.CPUPerMsg, d) }

// fmtCPU prints a CPU time in seconds, or n/a if it was not measured.
func fmtCPU(ok bool, d time.Duration) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// fmtPerOp prints a CPU time per operation d in µs, or n/a if the CPU time
// was not measured or its total per operation is 0.
func fmtPerOp(ok bool, total, d time.Duration) string {
	if !ok || total == 0 {
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
