package main

import (
	"fmt"
	"strings"
	"time"
)

// aggregateHTTP sets HTTPCells from HTTPRuns: for each server and
// connection count, the round with the median req/s (all its figures, so
// they stay consistent) with CPU/req and user/req the medians of the
// rounds, or the first failed round if one failed.
func (r *report) aggregateHTTP() {
	r.HTTPCells = nil
	for _, s := range r.HTTPServers {
		for _, n := range r.HTTPConns {
			runs, failed := roundsOf(r.HTTPRuns,
				func(c *httpCell) bool { return c.Server == s.Name && c.Conns == n },
				func(c *httpCell) bool { return c.Err != "" || c.Wrk == nil })
			switch {
			case failed != nil:
				c := *failed
				c.Err = fmt.Sprintf("round %d: %s", c.Round, c.Err)
				r.HTTPCells = append(r.HTTPCells, c)
			case len(runs) > 0:
				c, lo, hi := medianRound(runs, func(c httpCell) float64 { return c.Wrk.ReqPerSec })
				c.Range = [2]float64{lo, hi}
				c.CPUPerReq = median(runs, func(c httpCell) time.Duration { return c.CPUPerReq })
				c.UserPerReq = median(runs, func(c httpCell) time.Duration { return c.UserPerReq })
				r.HTTPCells = append(r.HTTPCells, c)
			}
		}
	}
}

// httpCell returns the successful measurement of server at conns
// connections, or nil.
func (r *report) httpCell(server string, conns int) *httpCell {
	for i := range r.HTTPCells {
		c := &r.HTTPCells[i]
		if c.Server == server && c.Conns == conns && c.Err == "" && c.Wrk != nil {
			return c
		}
	}
	return nil
}

// httpRan lists the HTTP servers that were not skipped, in order.
func (r *report) httpRan() []string {
	var names []string
	for _, s := range r.HTTPServers {
		if s.Skip == "" {
			names = append(names, s.Name)
		}
	}
	return names
}

// httpMarkdown writes the HTTP comparison: one table per connection count,
// the goals for greenhttp, the legend.
func (r *report) httpMarkdown(b *strings.Builder) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("### HTTP\n\n")
	if r.HTTPSkip != "" {
		p("Skipped: %s\n", oneLine(r.HTTPSkip))
		return
	}
	warmup := "no warm-up"
	if r.Warmup > 0 {
		warmup = "a " + wrkSeconds(r.Warmup) + " warm-up run of wrk"
	}
	wrk := "wrk"
	if r.WrkVersion != "" {
		wrk = r.WrkVersion
	}
	p("greenhub's greenhttp against net/http and Python's WSGI servers. Every server answers `GET /hello` with the 13 bytes `Hello, World!` over keep-alive connections, "+
		"driven by `wrk -t1 -cN --timeout 10s --latency` (%s) on the same machine. "+
		"Each run: %s, then a %s measured run (wrk takes whole seconds); %d round(s) over all servers; "+
		"each cell shows the round with the median req/s (the range column spans all rounds), "+
		"except CPU/req and user/req, the medians of the rounds. "+
		"Before it is measured, each server passes a check of the routes every server serves, with a net/http client: "+
		"`GET /hello`, `POST /echo` (64 KiB, with a Content-Length and chunked), `GET /stream?n=3`.\n\n",
		wrk, warmup, wrkSeconds(r.Duration), r.Rounds)
	p("Server CPU is user+system time of the server process (with its worker processes, if any) from the start of the measured wrk run to its exit " +
		"(the connections' set-up included; /proc/PID/stat, 10 ms ticks); p50 and p99 are wrk's; " +
		"errors counts wrk's socket errors (connect, read, write, timeout). " +
		"Ratios divide each server's figure by the baseline's from the same run and connection count: " +
		"for req/s above 1 is better, for CPU/req and p99 below 1 is better.\n\n")

	for _, n := range r.HTTPConns {
		p("### HTTP, GET /hello, %s conns\n\n", groupThousands(n))
		p("| server | req/s | range | p50 | p99 | server CPU | CPU/req | user/req | RSS | errors | req/s ÷ %[1]s | CPU/req ÷ %[1]s | p99 ÷ %[1]s | req/s ÷ %[2]s |\n",
			nethttp1Name, eventletWSGI)
		p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		base, py := r.httpCell(nethttp1Name, n), r.httpCell(eventletWSGI, n)
		for _, name := range r.httpRan() {
			c := r.findHTTP(name, n)
			if c == nil {
				continue
			}
			if c.Err != "" || c.Wrk == nil {
				p("| %s | FAILED: %s |||||||||||||\n", name, oneLine(c.Err))
				continue
			}
			w := c.Wrk
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				name, groupThousands(int(w.ReqPerSec+0.5)), fmtRange(c.Range), fmtDur(w.P50), fmtDur(w.P99),
				fmtCPU(c.CPUOK, c.CPU), fmtPerOp(c.CPUOK, c.CPUPerReq, c.CPUPerReq), fmtPerOp(c.CPUOK, c.CPUPerReq, c.UserPerReq),
				fmtBytes(c.RSS), groupThousands(int(w.socketErrors())),
				ratio(w.ReqPerSec, reqPerSec(base)), ratio(cpuPerReq(c), cpuPerReq(base)),
				ratio(float64(w.P99), p99(base)), ratio(w.ReqPerSec, reqPerSec(py)))
		}
		p("\n")
	}

	p("%s", r.httpGoals())
	p("### HTTP servers\n\n")
	legend(b, r.HTTPServers)
}

// findHTTP returns server's measurement at conns connections, failed or not.
func (r *report) findHTTP(server string, conns int) *httpCell {
	for i := range r.HTTPCells {
		if c := &r.HTTPCells[i]; c.Server == server && c.Conns == conns {
			return c
		}
	}
	return nil
}

// httpGoals checks greenhttp's goals against the baselines of the same
// run: req/s ≥ 1.3× nethttp-1p's, server CPU per request ≤ 0.75× its, p99
// no worse than its, and req/s ≥ 5× eventlet.wsgi's.
func (r *report) httpGoals() string {
	var gs []goal
	yesNo := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	for _, n := range r.HTTPConns {
		conns := groupThousands(n) + " conns"
		gh, base, py := r.httpCell(greenhttpName, n), r.httpCell(nethttp1Name, n), r.httpCell(eventletWSGI, n)
		missing := func(text string) goal { return goal{text: text + ", " + conns, measured: "—", met: "—"} }

		g := missing("req/s ≥ 1.3× " + nethttp1Name)
		if gh != nil && base != nil {
			rr := gh.Wrk.ReqPerSec / base.Wrk.ReqPerSec
			g.measured, g.met = fmt.Sprintf("%.2f×", rr), yesNo(rr >= 1.3)
		}
		gs = append(gs, g)

		g = missing("server CPU/req ≤ 0.75× " + nethttp1Name + "'s")
		if gh != nil && base != nil && cpuPerReq(gh) > 0 && cpuPerReq(base) > 0 {
			rc := cpuPerReq(gh) / cpuPerReq(base)
			g.measured = fmt.Sprintf("%.2f× (%s vs %s)", rc,
				fmtPerOp(true, gh.CPUPerReq, gh.CPUPerReq), fmtPerOp(true, base.CPUPerReq, base.CPUPerReq))
			g.met = yesNo(rc <= 0.75)
		}
		gs = append(gs, g)

		g = missing("p99 ≤ " + nethttp1Name + "'s")
		if gh != nil && base != nil {
			g.measured = fmt.Sprintf("%s vs %s", fmtDur(gh.Wrk.P99), fmtDur(base.Wrk.P99))
			g.met = yesNo(gh.Wrk.P99 <= base.Wrk.P99)
		}
		gs = append(gs, g)

		g = missing("req/s ≥ 5× " + eventletWSGI)
		if gh != nil && py != nil {
			rr := gh.Wrk.ReqPerSec / py.Wrk.ReqPerSec
			g.measured, g.met = fmt.Sprintf("%.2f×", rr), yesNo(rr >= 5)
		}
		gs = append(gs, g)
	}
	return goalTable("Goals for greenhttp (HTTP, GET /hello)", gs)
}

func reqPerSec(c *httpCell) float64 {
	if c == nil {
		return 0
	}
	return c.Wrk.ReqPerSec
}

func cpuPerReq(c *httpCell) float64 {
	if c == nil || !c.CPUOK {
		return 0
	}
	return float64(c.CPUPerReq)
}

func p99(c *httpCell) float64 {
	if c == nil {
		return 0
	}
	return float64(c.Wrk.P99)
}
