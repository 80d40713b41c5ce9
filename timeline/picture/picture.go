// Package picture draws a trace that package timeline recorded (and
// timeline.Read loaded) as a static picture, through gonum/plot: a lane
// per green thread with the hub loop's lane on top, the stretches each ran
// as bars, its spawn, blocks (with their reasons), wake-ups and exit as
// markers, an arrow for each switch from the lane giving up the thread to
// the lane receiving it, and the loop's phases in colour on the hub's
// lane. Options pick a window, a lane limit, or a layout by event order
// for runs whose events are microseconds apart. cmd/timeline is its
// command line; the tutorial's and notebooks' timelines are drawn with it.
package picture

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/greenhub/greenhub/timeline"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Options say which part of a trace to draw, and how. The zero value
// draws the whole trace in real time.
type Options struct {
	// Order lays the events out by their order instead of their time:
	// each distinct timestamp gets the next slot on the x axis, so that
	// events microseconds apart and unevenly spaced (a greenlet program)
	// read as steps. Events at the same time share a slot.
	Order bool
	// From and To bound the window drawn, in time since the tracer
	// started; From 0 is the start of the trace, To 0 its end. Spans
	// crossing an edge are cut there.
	From, To time.Duration
	// MaxEvents, when positive, ends the window at the MaxEvents-th event
	// (span, instant or phase, by start time) from From: "the first N
	// events" of a long trace.
	MaxEvents int
	// MaxLanes, when positive, draws at most this many lanes: the first in
	// display order among those with something in the window. Lanes with
	// nothing in the window are never drawn.
	MaxLanes int
	// Title is drawn above the lanes when not empty.
	Title string
	// Width of the picture; 0 is 8 inches, which a markdown page shows
	// at about its own width with readable text. The height follows from
	// the number of lanes.
	Width vg.Length
}

// ErrEmpty is returned when nothing of the trace falls in the window.
var ErrEmpty = errors.New("picture: no events to draw")

// The picture's dimensions and text sizes.
const (
	defaultWidth = 8 * vg.Inch
	minWidth     = 3 * vg.Inch
	margin       = 6 // points around the picture Write draws
	laneHeight   = 0.36 * vg.Inch
	// frame is the height of the title-less picture outside the lanes:
	// the x axis with its ticks and label, and the margins.
	frame     = 0.62 * vg.Inch
	titleRoom = 0.3 * vg.Inch
	barHalf   = 0.22 // half a bar's height, in lanes
	keyLine   = 11   // points per line of the key
	minBar    = 1    // points: the narrowest bar drawn
)

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// textStyle is the sans-serif style of size points.
func textStyle(size vg.Length) draw.TextStyle {
	return draw.TextStyle{Color: color.Black, Font: font.From(sans, size), Handler: plot.DefaultTextHandler}
}

// The colours: a blue for running, the loop's phases each their own,
// the instants in colours that stand out on the blue.
var (
	runColor    = rgb(0x4c78a8)
	arrowColor  = rgb(0x333333)
	bandColor   = rgb(0xf2f2f2)
	phaseColors = map[string]color.RGBA{
		"timers": rgb(0xf58518),
		"batch":  rgb(0x9fd18b),
		"poll":   rgb(0xb279a2),
		"door":   rgb(0x9d755d),
	}
	phaseOrder = []string{"timers", "batch", "poll", "door"}
	// phaseDrawOrder draws the poll, the loop's waiting, first and the
	// short, rare phases last, over the others.
	phaseDrawOrder = []string{"poll", "batch", "door", "timers"}
	markers        = map[string]draw.GlyphStyle{
		"spawn": {Color: rgb(0x1b7a1b), Radius: 3.2, Shape: draw.PyramidGlyph{}},
		"block": {Color: rgb(0xd62728), Radius: 2.6, Shape: draw.BoxGlyph{}},
		"wake":  {Color: rgb(0xffb000), Radius: 2.8, Shape: draw.CircleGlyph{}},
		"exit":  {Color: color.Black, Radius: 3, Shape: crossGlyph{}},
	}
	markerOrder = []string{"spawn", "block", "wake", "exit"}
)

func rgb(v uint32) color.RGBA {
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

// SVG draws the trace as an SVG picture to w.
func SVG(w io.Writer, t *timeline.Trace, o Options) error {
	return Write(w, t, o, "svg")
}

// Write draws the trace to w in format: any format gonum/plot knows
// ("svg", "png", "pdf", "eps", "jpg", "tif", "tex"), at the size Size
// gives, with a margin. In SVG the text names Liberation Sans, the font
// the layout was measured with, then Arial, which has the same widths,
// and sans-serif, for viewers without it.
func Write(w io.Writer, t *timeline.Trace, o Options, format string) error {
	l, err := newLayout(t, o)
	if err != nil {
		return err
	}
	width, height := l.size()
	c, err := draw.NewFormattedCanvas(width, height, format)
	if err != nil {
		return fmt.Errorf("picture: %w", err)
	}
	l.plot().Draw(draw.Crop(draw.New(c), margin, -margin, margin, -margin))
	var out bytes.Buffer
	if _, err := c.WriteTo(&out); err != nil {
		return fmt.Errorf("picture: %w", err)
	}
	data := out.Bytes()
	if format == "svg" {
		data = bytes.ReplaceAll(data, []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("picture: write: %w", err)
	}
	return nil
}

// Plot returns the picture of the trace as a gonum plot, to be saved or
// drawn by the caller at the size Size gives: one lane per track (the
// hub loop on top), the runs as bars, the instants as markers (a block
// labelled with its reason where there is room), the switches as arrows
// from the lane giving up the thread to the lane receiving it, and the
// loop's phases on the hub lane, with a key above the lanes. Where a long
// trace crowds them, bars merge into bands as pale as the lane was idle,
// and arrows and markers with no room are left out, the key saying how
// many.
//
// Plot, Write, SVG, Size and Lanes only read t: any goroutine may
// call them, at the same time too.
func Plot(t *timeline.Trace, o Options) (*plot.Plot, error) {
	l, err := newLayout(t, o)
	if err != nil {
		return nil, err
	}
	return l.plot(), nil
}

// Size returns the size at which Plot's picture of t is meant to be
// drawn: the option's width, and a height that gives every lane room for
// its bar and labels. Write adds a margin inside it.
func Size(t *timeline.Trace, o Options) (width, height vg.Length, err error) {
	l, err := newLayout(t, o)
	if err != nil {
		return 0, 0, err
	}
	width, height = l.size()
	return width, height, nil
}

// Lanes returns the tracks the picture of t shows, top to bottom, and
// how many more had something in the window but were left out by
// MaxLanes.
func Lanes(t *timeline.Trace, o Options) (lanes []*timeline.Track, hidden int, err error) {
	l, err := newLayout(t, o)
	if err != nil {
		return nil, 0, err
	}
	return l.lanes, l.hidden, nil
}

// layout is what to draw where: the lanes, the window and the x
// coordinate of each time.
type layout struct {
	o           Options
	t           *timeline.Trace
	lanes       []*timeline.Track
	row         map[*timeline.Track]int // lane index, 0 at the top
	hidden      int                     // lanes with events in the window left out by MaxLanes
	lo, hi      time.Duration           // the window, shrunk to what is drawn
	slots       []time.Duration
	unit        time.Duration                          // the x axis unit in time mode
	keyRows     int                                    // lanes' worth of height the key takes
	hubs        int                                    // hubs among the lanes
	sw          []timeline.Switch                      // the switches in the window between lanes drawn
	arrows      []timeline.Switch                      // those drawn as arrows, clear of the others
	marks       map[*timeline.Track][]timeline.Instant // the instants drawn as markers, by lane
	hiddenMarks map[string]int                         // the instants too close to others to draw, by name
	xmin        float64                                // the x axis range
	xmax        float64
}

func newLayout(t *timeline.Trace, o Options) (*layout, error) {
	if o.To != 0 && o.To < o.From {
		return nil, fmt.Errorf("picture: window ends (%v) before it starts (%v)", o.To, o.From)
	}
	if o.Width == 0 {
		o.Width = defaultWidth
	}
	if o.Width < minWidth {
		return nil, fmt.Errorf("picture: width %.2g inches is under %g", o.Width/vg.Inch, minWidth/vg.Inch)
	}
	l := &layout{o: o, t: t, lo: o.From, hi: o.To, row: map[*timeline.Track]int{}}
	start, end := t.Bounds()
	if l.lo == 0 {
		l.lo = min(start, 0) // a trace may have times before its origin
	}
	if l.hi == 0 {
		l.hi = end
	}
	if o.MaxEvents > 0 {
		l.cutAtEvent(o.MaxEvents)
	}
	l.chooseLanes()
	if len(l.lanes) == 0 {
		return nil, ErrEmpty
	}
	l.fit()
	l.sw = l.switches()
	// Which arrows and markers have room, and how many lines the key
	// takes, follow from the width of the data area: the picture's less
	// the lane labels and the margins.
	labelWidth := vg.Length(0)
	for _, tr := range l.lanes {
		labelWidth = max(labelWidth, textStyle(9).Width(l.label(tr)))
	}
	dataWidth := l.o.Width - 2*margin - labelWidth - 0.3*vg.Inch
	xOf := func(at time.Duration) vg.Length {
		return dataWidth * vg.Length((l.x(at)-l.xmin)/(l.xmax-l.xmin))
	}
	l.arrows = l.clearArrows(xOf)
	l.marks, l.hiddenMarks = l.clearMarks(xOf)
	l.keyRows = int(math.Ceil(float64(keyLine*len(l.keyLines(dataWidth))+4) / float64(laneHeight.Points())))
	return l, nil
}

// chooseLanes picks the lanes to draw: the tracks with something in the
// window, in order, at most MaxLanes of them. Every hub's loop lane is
// drawn before any green thread's, so that a limit never hides a whole
// hub; the green threads' lanes fill what is left, in order.
func (l *layout) chooseLanes() {
	var active []*timeline.Track
	loops := 0
	for _, tr := range l.t.Tracks {
		if l.active(tr) {
			active = append(active, tr)
			if tr.TID == 0 {
				loops++
			}
		}
	}
	room := len(active)
	if l.o.MaxLanes > 0 {
		room = l.o.MaxLanes
	}
	others := max(room-loops, 0)
	for _, tr := range active {
		drawn := false
		switch {
		case tr.TID == 0 && room > 0:
			drawn = true
		case tr.TID != 0 && others > 0:
			drawn = true
			others--
		}
		if !drawn || len(l.lanes) == room {
			l.hidden++
			continue
		}
		l.row[tr] = len(l.lanes)
		l.lanes = append(l.lanes, tr)
	}
}

// cutAtEvent moves the end of the window to the n-th event from its
// start.
func (l *layout) cutAtEvent(n int) {
	var starts []time.Duration
	see := func(at time.Duration) {
		if at >= l.lo && at <= l.hi {
			starts = append(starts, at)
		}
	}
	for _, tr := range l.t.Tracks {
		for _, s := range tr.Runs {
			see(s.Start)
		}
		for _, in := range tr.Instants {
			see(in.At)
		}
		for _, p := range tr.Phases {
			see(p.Start)
		}
	}
	if len(starts) > n {
		slices.Sort(starts)
		l.hi = starts[n-1]
	}
}

// clip cuts s to the window; ok is false when it lies outside.
func (l *layout) clip(s timeline.Span) (from, to time.Duration, ok bool) {
	if s.End() < l.lo || s.Start > l.hi {
		return 0, 0, false
	}
	return max(s.Start, l.lo), min(s.End(), l.hi), true
}

func (l *layout) in(at time.Duration) bool { return at >= l.lo && at <= l.hi }

// active reports whether the track has anything in the window.
func (l *layout) active(tr *timeline.Track) bool {
	for _, s := range tr.Runs {
		if _, _, ok := l.clip(s); ok {
			return true
		}
	}
	for _, p := range tr.Phases {
		if _, _, ok := l.clip(p.Span); ok {
			return true
		}
	}
	for _, in := range tr.Instants {
		if l.in(in.At) {
			return true
		}
	}
	return false
}

// fit shrinks the window to what the lanes show, and lays out the x axis:
// the slots in order mode, the unit in time mode.
func (l *layout) fit() {
	var times []time.Duration
	for i, tr := range l.lanes {
		for _, s := range tr.Runs {
			if a, b, ok := l.clip(s); ok {
				times = append(times, a, b)
			}
		}
		for _, p := range tr.Phases {
			if a, b, ok := l.clip(p.Span); ok {
				times = append(times, a, b)
			}
		}
		for _, in := range tr.Instants {
			if l.in(in.At) {
				times = append(times, in.At)
			}
		}
		if i == 0 || tr.PID != l.lanes[i-1].PID {
			l.hubs++ // lanes are ordered by hub
		}
	}
	slices.Sort(times)
	l.lo, l.hi = times[0], times[len(times)-1]
	if l.o.Order {
		l.slots = slices.Compact(times)
		l.xmin, l.xmax = -0.5, float64(len(l.slots))-0.5
		return
	}
	switch span := l.hi - l.lo; {
	case span >= 20*time.Second:
		l.unit = time.Second
	case span >= 20*time.Millisecond:
		l.unit = time.Millisecond
	default:
		l.unit = time.Microsecond
	}
	// The padding is also at least a trillionth of the times shown:
	// tick steps below float64's resolution there would never advance.
	lo, hi := l.x(l.lo), l.x(l.hi)
	pad := max((hi-lo)*0.01, 1e-12*max(math.Abs(lo), math.Abs(hi)), 0.001)
	l.xmin, l.xmax = lo-pad, hi+pad
}

// x is the x coordinate of time at.
func (l *layout) x(at time.Duration) float64 {
	if l.o.Order {
		i, _ := slices.BinarySearch(l.slots, at)
		return float64(i)
	}
	return float64(at) / float64(l.unit)
}

// y is the y coordinate of the centre of a lane; the first lane is on top.
func (l *layout) y(row int) float64 { return float64(len(l.lanes) - 1 - row) }

func (l *layout) size() (width, height vg.Length) {
	height = frame + 2*margin + laneHeight*vg.Length(len(l.lanes)+l.keyRows)
	if l.o.Title != "" {
		height += titleRoom
	}
	return l.o.Width, height
}

// label is the text beside a lane: the G's name, after its hub's name
// when the picture shows several hubs, where the loop's lane is the hub's.
func (l *layout) label(tr *timeline.Track) string {
	if l.hubs > 1 && tr.TID == 0 {
		return tr.Hub
	}
	if l.hubs > 1 {
		return tr.Hub + " · " + tr.Name
	}
	return tr.Name
}

func (l *layout) plot() *plot.Plot {
	p := plot.New()
	p.Title.Text = l.o.Title
	p.Title.TextStyle.Font = font.From(sans, 11)
	p.Add(lanesPlotter{l})

	ticks := make([]plot.Tick, len(l.lanes))
	for i, tr := range l.lanes {
		ticks[i] = plot.Tick{Value: l.y(i), Label: l.label(tr)}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Label = textStyle(9)
	p.Y.Tick.Label.XAlign = draw.XRight
	p.Y.Tick.Label.YAlign = draw.YCenter
	p.Y.Tick.Length, p.Y.Tick.Width, p.Y.Width = 0, 0, 0
	p.Y.Min, p.Y.Max = -0.5, float64(len(l.lanes)+l.keyRows)-0.5
	p.Y.Padding = 0

	p.X.Tick.Label = textStyle(8)
	p.X.Tick.Label.XAlign = draw.XCenter
	p.X.Tick.Label.YAlign = draw.YTop
	p.X.Label.TextStyle.Font = font.From(sans, 9)
	p.X.Padding = 0
	p.X.Tick.Marker = plainTicks{}
	p.X.Min, p.X.Max = l.xmin, l.xmax
	if l.o.Order {
		p.X.Label.Text = "events in order: each step is the next event, not a length of time"
		if len(l.slots) <= 1 {
			p.X.Tick.Marker = plot.ConstantTicks(nil)
		}
	} else {
		p.X.Label.Text = map[time.Duration]string{
			time.Microsecond: "µs", time.Millisecond: "ms", time.Second: "s",
		}[l.unit] + " since the tracer started"
	}
	if l.hidden > 0 {
		lanes := "lanes"
		if l.hidden == 1 {
			lanes = "lane"
		}
		p.X.Label.Text += fmt.Sprintf(" (%d more %s not shown)", l.hidden, lanes)
	}
	return p
}

// plainTicks are plot.DefaultTicks labelled without trailing zeros.
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			// Ten significant digits drop the float noise (0.30000000000000004).
			v, _ := strconv.ParseFloat(strconv.FormatFloat(ts[i].Value, 'g', 10, 64), 64)
			ts[i].Label = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return ts
}

// lanesPlotter is the plotter that draws the lanes.
type lanesPlotter struct{ l *layout }

// Plot implements plot.Plotter: it draws, in this order so that the later
// stay visible, the lane bands, the phases and runs, the switch arrows,
// the instants with their labels, and the key.
func (pic lanesPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	l := pic.l
	trX, trY := p.Transforms(&c)
	laneH := trY(1) - trY(0)
	half := laneH * barHalf
	xOf := func(at time.Duration) vg.Length { return trX(l.x(at)) }

	for i := range l.lanes {
		if i%2 == 1 {
			yc := trY(l.y(i))
			fillRect(&c, bandColor, c.Min.X, yc-laneH/2, c.Max.X, yc+laneH/2)
		}
	}
	for i, tr := range l.lanes {
		yc := trY(l.y(i))
		pic.phases(&c, tr, xOf, yc-half, yc+half)
		var runs barRow
		for _, s := range tr.Runs {
			if a, b, ok := l.clip(s); ok {
				runs.add(xOf(a), xOf(b))
			}
		}
		runs.fill(&c, runColor, yc-half*0.8, yc+half*0.8)
	}
	for _, sw := range l.arrows {
		from, to := l.row[sw.From], l.row[sw.To]
		y0, y1 := trY(l.y(from)), trY(l.y(to))
		if y1 < y0 {
			y0, y1 = y0-half, y1+half
		} else {
			y0, y1 = y0+half, y1-half
		}
		drawArrow(&c, xOf(sw.At), y0, y1)
	}
	for i, tr := range l.lanes {
		yc := trY(l.y(i))
		for _, in := range l.marks[tr] {
			drawMarker(&c, markers[in.Name], vg.Point{X: xOf(in.At), Y: yc})
		}
		pic.labels(&c, tr, xOf, yc, half)
	}
	pic.key(&c)
}

// phases draws the loop's phases on a hub lane, in a bar from y0 to y1:
// each at full height while they are far apart; in a stripe per phase
// (top to bottom in phaseOrder) once a phase's bars merge, as they do in
// the overview of a long trace, where overlaid they would mix.
func (pic lanesPlotter) phases(c *draw.Canvas, tr *timeline.Track, xOf func(time.Duration) vg.Length, y0, y1 vg.Length) {
	if len(tr.Phases) == 0 {
		return
	}
	rows := map[string]*barRow{}
	dense := false
	for _, ph := range tr.Phases {
		if a, b, ok := pic.l.clip(ph.Span); ok {
			if rows[ph.Name] == nil {
				rows[ph.Name] = new(barRow)
			}
			rows[ph.Name].add(xOf(a), xOf(b))
			dense = dense || rows[ph.Name].merged()
		}
	}
	if !dense {
		for _, name := range phaseDrawOrder {
			if r := rows[name]; r != nil {
				r.fill(c, phaseColors[name], y0, y1)
			}
		}
		return
	}
	stripe := (y1 - y0) / vg.Length(len(rows))
	top := y1
	for _, name := range phaseOrder {
		if r := rows[name]; r != nil {
			r.fill(c, phaseColors[name], top-stripe, top)
			top -= stripe
		}
	}
}

// labels writes beside the block and exit markers drawn on a lane what
// the G waited for or the error it ended with, where the text fits: on
// the lane to the right of the marker, where the G is not running, when
// there is room before the lane's next run or instant; else above or
// below the bar, ending at the marker, on a side clear of the lane's
// other labels and of the arrows that end or start there. The text has a
// white ground, so that arrows passing through the lane do not cross it.
func (pic lanesPlotter) labels(c *draw.Canvas, tr *timeline.Track, xOf func(time.Duration) vg.Length, yc, half vg.Length) {
	l := pic.l
	var above, below []vg.Length // where arrows meet the lane's bar
	for _, sw := range l.arrows {
		other := sw.To
		if sw.To == tr {
			other = sw.From
		} else if sw.From != tr {
			continue
		}
		if l.row[other] < l.row[tr] {
			above = append(above, xOf(sw.At))
		} else {
			below = append(below, xOf(sw.At))
		}
	}
	clearOf := func(arrows []vg.Length, x0, x1 vg.Length) bool {
		return !slices.ContainsFunc(arrows, func(x vg.Length) bool { return x >= x0-3 && x <= x1+3 })
	}
	sty := textStyle(7)
	sty.YAlign = draw.YCenter
	var next []vg.Length // where something starts on the lane, in order
	var runs [][2]vg.Length
	for _, s := range tr.Runs {
		if a, b, ok := l.clip(s); ok {
			next = append(next, xOf(a))
			runs = append(runs, [2]vg.Length{xOf(a), xOf(b)})
		}
	}
	for _, in := range tr.Instants {
		if l.in(in.At) {
			next = append(next, xOf(in.At))
		}
	}
	slices.Sort(next)
	freeAbove, freeBelow := c.Min.X, c.Min.X // where a label may start
	for _, in := range l.marks[tr] {
		text := in.Reason
		if in.Name == "exit" {
			text = in.Err
		}
		if text == "" {
			continue
		}
		x, r := xOf(in.At), markers[in.Name].Radius+1
		width := sty.Width(text)
		start := x + r + 1
		// A G blocks just before its run ends: the label goes after it.
		if k, _ := slices.BinarySearchFunc(runs, x, func(r [2]vg.Length, x vg.Length) int {
			return cmp.Compare(r[0], x+1e-9)
		}); k > 0 && x < runs[k-1][1] {
			start = max(start, runs[k-1][1]+3)
		}
		limit := c.Max.X
		if k, _ := slices.BinarySearch(next, start); k < len(next) {
			limit = min(limit, next[k]-2)
		}
		switch {
		case start+width <= limit:
			drawLabel(c, sty, vg.Point{X: start, Y: yc}, text)
		case x-width >= freeAbove && clearOf(above, x-width, x):
			drawLabel(c, sty, vg.Point{X: x - width, Y: yc + half + 5}, text)
			freeAbove = x + 3
		case x-width >= freeBelow && clearOf(below, x-width, x):
			drawLabel(c, sty, vg.Point{X: x - width, Y: yc - half - 5}, text)
			freeBelow = x + 3
		}
	}
}

// drawLabel writes text on a white ground, left-aligned at pt.
func drawLabel(c *draw.Canvas, sty draw.TextStyle, pt vg.Point, text string) {
	h := sty.Height(text)
	fillRect(c, color.White, pt.X-1, pt.Y-h/2, pt.X+sty.Width(text)+1, pt.Y+h/2)
	c.FillText(sty, pt, text)
}

// arrowGap and markGap are the room, in points, an arrow or a marker
// needs on both sides to be drawn: closer switches make a hatch no one can
// follow, and closer markers a smear.
const (
	arrowGap = 3
	markGap  = 4
)

// clearMarks returns, by lane, the instants to draw as markers, and, by
// name, how many were left out. Instants in the window less than markGap
// points apart where xOf puts them form a cluster, of which only the last
// is drawn (an exit rather than the block before it).
func (l *layout) clearMarks(xOf func(time.Duration) vg.Length) (map[*timeline.Track][]timeline.Instant, map[string]int) {
	marks, hidden := map[*timeline.Track][]timeline.Instant{}, map[string]int{}
	for _, tr := range l.lanes {
		var ins []timeline.Instant
		for _, in := range tr.Instants {
			if _, ok := markers[in.Name]; ok && l.in(in.At) {
				ins = append(ins, in)
			}
		}
		for i, in := range ins {
			if i+1 < len(ins) && xOf(ins[i+1].At)-xOf(in.At) < markGap {
				hidden[in.Name]++
				continue
			}
			marks[tr] = append(marks[tr], in)
		}
	}
	return marks, hidden
}

// clearArrows returns the switches to draw as arrows: those with arrowGap
// points clear of any other, where xOf puts them.
func (l *layout) clearArrows(xOf func(time.Duration) vg.Length) []timeline.Switch {
	var out []timeline.Switch
	for i, sw := range l.sw {
		x := xOf(sw.At)
		if i > 0 && x-xOf(l.sw[i-1].At) < arrowGap || i+1 < len(l.sw) && xOf(l.sw[i+1].At)-x < arrowGap {
			continue
		}
		out = append(out, sw)
	}
	return out
}

// switches returns the switches in the window whose both lanes are drawn.
func (l *layout) switches() []timeline.Switch {
	var out []timeline.Switch
	for _, sw := range l.t.Switches() {
		_, fromShown := l.row[sw.From]
		_, toShown := l.row[sw.To]
		if fromShown && toShown && sw.From != sw.To && l.in(sw.At) {
			out = append(out, sw)
		}
	}
	return out
}

// keyEntry is one entry of the key: a thumbnail and its text.
type keyEntry struct {
	text  string
	thumb func(c *draw.Canvas, r vg.Rectangle)
}

// keyEntries are the entries for what the picture shows.
func (l *layout) keyEntries() []keyEntry {
	seen := map[string]bool{}
	for _, tr := range l.lanes {
		if len(tr.Runs) > 0 {
			seen["running"] = true
		}
		for _, in := range tr.Instants {
			if l.in(in.At) {
				seen[in.Name] = true
			}
		}
		for _, ph := range tr.Phases {
			if _, _, ok := l.clip(ph.Span); ok {
				seen[ph.Name] = true
			}
		}
	}
	var es []keyEntry
	bar := func(clr color.Color, h float64) func(*draw.Canvas, vg.Rectangle) {
		return func(c *draw.Canvas, r vg.Rectangle) {
			mid, d := (r.Min.Y+r.Max.Y)/2, (r.Max.Y-r.Min.Y)*vg.Length(h)/2
			fillRect(c, clr, r.Min.X, mid-d, r.Max.X, mid+d)
		}
	}
	if seen["running"] {
		es = append(es, keyEntry{"running", bar(runColor, 0.6)})
	}
	for _, name := range markerOrder {
		if seen[name] {
			sty := markers[name]
			text := name
			if n := l.hiddenMarks[name]; n > 0 {
				text = fmt.Sprintf("%s (%d too close to draw)", name, n)
			}
			es = append(es, keyEntry{text, func(c *draw.Canvas, r vg.Rectangle) {
				drawMarker(c, sty, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: (r.Min.Y + r.Max.Y) / 2})
			}})
		}
	}
	if len(l.sw) > 0 {
		text := "switch"
		if n := len(l.sw) - len(l.arrows); n > 0 {
			text = fmt.Sprintf("switch (%d too close to draw)", n)
		}
		es = append(es, keyEntry{text, func(c *draw.Canvas, r vg.Rectangle) {
			drawArrow(c, (r.Min.X+r.Max.X)/2, r.Max.Y+1, r.Min.Y-1)
		}})
	}
	for _, name := range phaseOrder {
		if seen[name] {
			es = append(es, keyEntry{"loop: " + name, bar(phaseColors[name], 0.8)})
		}
	}
	return es
}

// The key's measures, in points: a thumbnail's width, the gap after it
// and the gap after an entry's text.
const (
	thumbWidth = 12
	thumbGap   = 3
	entryGap   = 10
)

// keyLines splits the key's entries into lines no wider than width.
func (l *layout) keyLines(width vg.Length) [][]keyEntry {
	sty := textStyle(8)
	var lines [][]keyEntry
	var line []keyEntry
	x := vg.Length(0)
	for _, e := range l.keyEntries() {
		w := thumbWidth + thumbGap + sty.Width(e.text)
		if len(line) > 0 && x+w > width {
			lines = append(lines, line)
			line, x = nil, 0
		}
		line = append(line, e)
		x += w + entryGap
	}
	if len(line) > 0 {
		lines = append(lines, line)
	}
	return lines
}

// key draws the key in the rows above the lanes.
func (pic lanesPlotter) key(c *draw.Canvas) {
	sty := textStyle(8)
	sty.YAlign = draw.YCenter
	y := c.Max.Y - keyLine/2 - 2
	for _, line := range pic.l.keyLines(c.Max.X - c.Min.X) {
		x := c.Min.X
		for _, e := range line {
			e.thumb(c, vg.Rectangle{Min: vg.Point{X: x, Y: y - 4}, Max: vg.Point{X: x + thumbWidth, Y: y + 4}})
			x += thumbWidth + thumbGap
			c.FillText(sty, vg.Point{X: x, Y: y}, e.text)
			x += sty.Width(e.text) + entryGap
		}
		y -= keyLine
	}
}

// barRow is a row of bars of one kind, added left to right; a bar is at
// least minBar wide, and one that starts less than half a point after the
// last ends merges into it, so that a long trace draws a bounded number of
// shapes. A merged bar is drawn as opaque as the share of its width its
// bars cover, at least minInk: many short runs far apart in time but
// close on the page read as a pale band, not as one long run.
type barRow []bar

type bar struct {
	x0, x1 vg.Length
	ink    vg.Length // the width its bars cover
	n      int       // the bars merged into it
}

// minInk is the least opacity of a merged bar.
const minInk = 0.25

func (r *barRow) add(x0, x1 vg.Length) {
	ink := x1 - x0
	if ink < minBar {
		x0 -= (minBar - ink) / 2
		x1 = x0 + minBar
	}
	if n := len(*r); n > 0 && x0 <= (*r)[n-1].x1+0.5 {
		last := &(*r)[n-1]
		last.ink += min(ink, x1-last.x1)
		last.x1 = max(last.x1, x1)
		last.n++
		return
	}
	*r = append(*r, bar{x0: x0, x1: x1, ink: ink, n: 1})
}

// merged reports whether any bar of the row is several merged.
func (r barRow) merged() bool {
	return slices.ContainsFunc(r, func(b bar) bool { return b.n > 1 })
}

// fill draws the row's bars from y0 to y1.
func (r barRow) fill(c *draw.Canvas, clr color.RGBA, y0, y1 vg.Length) {
	for _, b := range r {
		fill := color.Color(clr)
		if b.n > 1 {
			share := min(max(float64(b.ink/(b.x1-b.x0)), minInk), 1)
			fill = color.NRGBA{R: clr.R, G: clr.G, B: clr.B, A: uint8(255 * share)}
		}
		fillRect(c, fill, b.x0, y0, b.x1, y1)
	}
}

func fillRect(c *draw.Canvas, clr color.Color, x0, y0, x1, y1 vg.Length) {
	c.FillPolygon(clr, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
}

// drawMarker draws a glyph with a white halo, to stand out on a bar.
func drawMarker(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	halo := sty
	halo.Color = color.White
	halo.Radius += 1
	c.DrawGlyph(halo, pt)
	c.DrawGlyph(sty, pt)
}

// crossGlyph is an X drawn with lines a fifth of its radius wide, thick
// enough to read on a bar (draw.CrossGlyph's are half a point).
type crossGlyph struct{}

func (crossGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	line := draw.LineStyle{Color: sty.Color, Width: sty.Radius * 0.45}
	r := sty.Radius * 0.75
	c.StrokeLine2(line, pt.X-r, pt.Y-r, pt.X+r, pt.Y+r)
	c.StrokeLine2(line, pt.X-r, pt.Y+r, pt.X+r, pt.Y-r)
}

// drawArrow draws a vertical arrow at x from y0 to y1, head at y1.
func drawArrow(c *draw.Canvas, x, y0, y1 vg.Length) {
	const head = 4 // points
	dir := vg.Length(1)
	if y1 < y0 {
		dir = -1
	}
	line := draw.LineStyle{Color: arrowColor, Width: 0.9}
	c.StrokeLine2(line, x, y0, x, y1-dir*head)
	c.FillPolygon(arrowColor, []vg.Point{
		{X: x, Y: y1}, {X: x - head*0.55, Y: y1 - dir*head}, {X: x + head*0.55, Y: y1 - dir*head},
	})
}
