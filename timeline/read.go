package timeline

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"time"
)

// Trace is a recorded trace in the timeline format, read back by Read:
// the tracks of every hub with what happened on them. A Trace is plain
// data; nothing in it is shared with the reader, and it is safe to read
// from any goroutine once Read has returned.
type Trace struct {
	// Tracks in display order: by hub (pid), the hub loop (tid 0) first,
	// then by sort index, then by tid.
	Tracks []*Track
	// Truncated is set when the input ended inside the array of events,
	// after a complete event: a trace whose tracer was never closed.
	Truncated bool
}

// Track is one lane of the picture: the hub loop (TID 0) or one G.
type Track struct {
	PID int    // the hub's number: 1 for the first hub the tracer saw
	TID uint64 // the G's ID (hub.G.ID); 0 is the hub loop
	// Hub is the process name of the track's hub ("hub 1" unless the
	// trace named it otherwise).
	Hub string
	// Name is the thread name: the G's name or "g<tid>", "hub" for the
	// loop. The last thread_name event wins (a G renamed while running).
	Name      string
	SortIndex int64 // the thread_sort_index, or the tid when none was given

	Runs     []Span    // stretches the G ran, by start time
	Instants []Instant // spawn, block, wake, exit and switch, by time
	Phases   []Phase   // the loop's phases (TID 0 only), by start time
}

// Span is a stretch of time: [Start, Start+Dur].
type Span struct {
	Start, Dur time.Duration // since the tracer was created
}

// End is the end of the span.
func (s Span) End() time.Duration { return s.Start + s.Dur }

// Instant is a scheduling event on a G's own track. Name is one of
// "spawn", "block", "wake", "exit" and "switch"; Read drops the others.
type Instant struct {
	Name string
	At   time.Duration
	// Reason is why a G blocked ("sleep", "read fd 5", "queue", ...);
	// block only.
	Reason string
	// Err is the error a G ended with; exit only, empty on success.
	Err string
	// To is the tid (on the same hub) the G switched to, 0 for the hub
	// loop; switch only.
	To uint64
}

// Phase is one phase of a hub loop turn that did work, on the hub
// loop's track. Name is one of "timers", "batch", "poll" and "door";
// only the count of its own phase is set.
type Phase struct {
	Name string
	Span
	Fired   int    // timers: the timers that fired
	Resumed int    // batch: the green threads resumed
	Events  int    // poll: the events the poll returned
	Timeout string // poll: the poll's timeout, "forever" when unbounded
	Jobs    int    // door: the jobs run from other goroutines
}

// Switch is a switch instant with both of its ends resolved.
type Switch struct {
	At       time.Duration
	From, To *Track
}

// Track returns the track of tid on hub pid, or nil.
func (t *Trace) Track(pid int, tid uint64) *Track {
	for _, tr := range t.Tracks {
		if tr.PID == pid && tr.TID == tid {
			return tr
		}
	}
	return nil
}

// Switches returns every switch in the trace in time order; switches at
// the same time keep their order in the file.
func (t *Trace) Switches() []Switch {
	byID := make(map[trackKey]*Track, len(t.Tracks))
	for _, tr := range t.Tracks {
		byID[trackKey{tr.PID, tr.TID}] = tr
	}
	var out []Switch
	for _, tr := range t.Tracks {
		for _, in := range tr.Instants {
			if in.Name == "switch" {
				out = append(out, Switch{At: in.At, From: tr, To: byID[trackKey{tr.PID, in.To}]})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Switch) int { return cmp.Compare(a.At, b.At) })
	return out
}

// Bounds returns the earliest start and the latest end of anything on
// the tracks; both are 0 for a trace with no events.
func (t *Trace) Bounds() (start, end time.Duration) {
	first := true
	see := func(lo, hi time.Duration) {
		if first || lo < start {
			start = lo
		}
		if first || hi > end {
			end = hi
		}
		first = false
	}
	for _, tr := range t.Tracks {
		for _, s := range tr.Runs {
			see(s.Start, s.End())
		}
		for _, in := range tr.Instants {
			see(in.At, in.At)
		}
		for _, p := range tr.Phases {
			see(p.Start, p.End())
		}
	}
	return start, end
}

// FormatError reports input that is not a trace in the timeline format,
// and where it went wrong.
type FormatError struct {
	Offset       int64 // byte offset in the input
	Line, Column int   // 1-based position of Offset
	Event        int   // index in traceEvents, or -1 outside any event
	Err          error
}

func (e *FormatError) Error() string {
	if e.Event >= 0 {
		return fmt.Sprintf("timeline: line %d, column %d: event %d: %v", e.Line, e.Column, e.Event, e.Err)
	}
	return fmt.Sprintf("timeline: line %d, column %d: %v", e.Line, e.Column, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// ReadFile reads the trace in the file at path, as Read.
func ReadFile(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}

// Read parses a Chrome trace-event JSON trace in the timeline format: the
// object form {"traceEvents":[...]} or the bare array form [...]. Input
// that ends without the array's closing bracket — after a complete event
// (chrome://tracing allows that of the array form) or inside one (a run
// that crashed, or never closed its tracer) — is read as far as it goes,
// the incomplete event dropped, and the Trace marked Truncated. Events with unknown phases, categories or names are
// ignored, as are unknown fields; a known event with a missing or
// mistyped field is an error, a *FormatError saying where.
func Read(r io.Reader) (*Trace, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("timeline: read: %w", err)
	}
	p := &parser{data: data, dec: json.NewDecoder(bytes.NewReader(data)), tracks: map[trackKey]*Track{}, hubs: map[int]string{}}
	if err := p.document(); err != nil {
		return nil, err
	}
	return p.trace(), nil
}

type trackKey struct {
	pid int
	tid uint64
}

// parser holds the state of one Read.
type parser struct {
	data   []byte
	dec    *json.Decoder
	tracks map[trackKey]*Track
	hubs   map[int]string // process names
	cut    bool           // the input ended inside the array of events
}

// errAt is a FormatError at byte offset off.
func (p *parser) errAt(off int64, event int, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = p.syntaxErrorOffset()
	}
	off = min(max(off, 0), int64(len(p.data)))
	line := 1 + bytes.Count(p.data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(p.data[:off], '\n')
	return &FormatError{Offset: off, Line: line, Column: col, Event: event, Err: err}
}

// syntaxErrorOffset returns the offset of the first byte at fault in
// input that the decoder found malformed. The decoder's own offsets count
// from where its current value began; validating the whole input again
// finds the same first error with an offset from the start.
func (p *parser) syntaxErrorOffset() int64 {
	err := json.Unmarshal(p.data, new(json.RawMessage))
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return int64(len(p.data))
	}
	if se.Offset < int64(len(p.data)) {
		return se.Offset - 1 // the error occurred after reading Offset bytes
	}
	return se.Offset
}

// document reads the top-level value: an object holding traceEvents, or
// the array of events itself.
func (p *parser) document() error {
	tok, err := p.dec.Token()
	if err == io.EOF {
		return p.errAt(0, -1, errors.New("empty input"))
	}
	if err != nil {
		return p.errAt(p.dec.InputOffset(), -1, err)
	}
	switch tok {
	case json.Delim('['):
		if err := p.events(); err != nil || p.cut {
			return err
		}
	case json.Delim('{'):
		if err := p.object(); err != nil || p.cut {
			return err
		}
	default:
		return p.errAt(p.dec.InputOffset(), -1, errors.New("want a JSON object or array of trace events"))
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return p.errAt(p.dec.InputOffset(), -1, errors.New("data after the trace"))
	}
	return nil
}

// object reads the members of the top-level object after its '{',
// keeping traceEvents and skipping the others.
func (p *parser) object() error {
	seen := false
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return p.errAt(p.dec.InputOffset(), -1, err)
		}
		key, _ := tok.(string)
		if key != "traceEvents" {
			var skip json.RawMessage
			if err := p.dec.Decode(&skip); err != nil {
				return p.errAt(p.dec.InputOffset(), -1, err)
			}
			continue
		}
		if seen {
			return p.errAt(p.dec.InputOffset(), -1, errors.New("traceEvents given twice"))
		}
		seen = true
		if tok, err := p.dec.Token(); err != nil {
			return p.errAt(p.dec.InputOffset(), -1, err)
		} else if tok != json.Delim('[') {
			return p.errAt(p.dec.InputOffset(), -1, errors.New("traceEvents is not an array"))
		}
		if err := p.events(); err != nil || p.cut {
			return err
		}
	}
	if _, err := p.dec.Token(); err != nil {
		return p.errAt(p.dec.InputOffset(), -1, err)
	}
	if !seen {
		return p.errAt(p.dec.InputOffset(), -1, errors.New("no traceEvents in the object"))
	}
	return nil
}

// events reads the events of an array after its '[' and its closing
// ']'; where the input ends first, after a complete event and maybe a
// comma or inside an event, it sets p.cut instead.
func (p *parser) events() error {
	for i := 0; p.dec.More(); i++ {
		var raw json.RawMessage
		if err := p.dec.Decode(&raw); err != nil {
			if err == io.ErrUnexpectedEOF || (err == io.EOF && len(bytes.TrimSpace(p.data[p.dec.InputOffset():])) == 0) {
				p.cut = true // cut short after a comma, or inside the last event
				return nil
			}
			return p.errAt(p.dec.InputOffset(), i, err)
		}
		start := p.dec.InputOffset() - int64(len(raw))
		if err := p.event(raw); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				err = fmt.Errorf("%s: want %s, have %s", te.Field, te.Type, te.Value)
			}
			return p.errAt(start, i, err)
		}
	}
	_, err := p.dec.Token()
	if err == io.EOF {
		p.cut = true
		return nil
	}
	if err != nil {
		return p.errAt(p.dec.InputOffset(), -1, err)
	}
	return nil
}

// jsonEvent is the part of a trace event Read looks at.
type jsonEvent struct {
	Ph   string          `json:"ph"`
	Cat  string          `json:"cat"`
	Name string          `json:"name"`
	PID  json.RawMessage `json:"pid"`
	TID  json.RawMessage `json:"tid"`
	TS   json.RawMessage `json:"ts"`
	Dur  json.RawMessage `json:"dur"`
	Args json.RawMessage `json:"args"`
}

// event adds one event to the tracks; it ignores events it does not know.
func (p *parser) event(raw json.RawMessage) error {
	var e jsonEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		return err
	}
	switch {
	case e.Ph == "":
		return errors.New(`no "ph"`)
	case e.Ph == "M":
		return p.metadata(&e)
	case e.Ph == "X" && e.Cat == "run":
		tr, err := p.track(&e)
		if err != nil {
			return err
		}
		s, err := spanOf(&e)
		if err != nil {
			return err
		}
		tr.Runs = append(tr.Runs, s)
	case (e.Ph == "i" || e.Ph == "I") && e.Cat == "sched":
		return p.instant(&e)
	case e.Ph == "X" && e.Cat == "loop":
		return p.phase(&e)
	}
	return nil
}

func (p *parser) metadata(e *jsonEvent) error {
	switch e.Name {
	case "process_name":
		pid, err := number(e.PID, "pid", math.MaxInt32)
		if err != nil {
			return err
		}
		name, err := metaArg[string](e, "name")
		if err != nil {
			return err
		}
		p.hubs[int(pid)] = name
	case "thread_name", "thread_sort_index":
		tr, err := p.track(e)
		if err != nil {
			return err
		}
		if e.Name == "thread_name" {
			tr.Name, err = metaArg[string](e, "name")
		} else {
			tr.SortIndex, err = metaArg[int64](e, "sort_index")
		}
		return err
	}
	return nil
}

// metaArg returns the one argument a metadata event must carry; its other
// arguments are ignored.
func metaArg[T any](e *jsonEvent, key string) (T, error) {
	var args map[string]json.RawMessage
	var v *T
	if err := arguments(e, &args); err != nil {
		return *new(T), err
	}
	if raw, ok := args[key]; ok {
		if err := json.Unmarshal(raw, &v); err != nil {
			return *new(T), fmt.Errorf("args.%s: want %T: %w", key, *new(T), err)
		}
	}
	if v == nil {
		return *new(T), fmt.Errorf("%s without args.%s", e.Name, key)
	}
	return *v, nil
}

func (p *parser) instant(e *jsonEvent) error {
	in := Instant{Name: e.Name}
	switch e.Name {
	case "spawn", "wake":
	case "block":
		var args struct {
			Reason string `json:"reason"`
		}
		if err := arguments(e, &args); err != nil {
			return err
		}
		in.Reason = args.Reason
	case "exit":
		var args struct {
			Error string `json:"error"`
		}
		if err := arguments(e, &args); err != nil {
			return err
		}
		in.Err = args.Error
	case "switch":
		var args struct {
			To json.RawMessage `json:"to"`
		}
		if err := arguments(e, &args); err != nil {
			return err
		}
		if len(args.To) == 0 {
			return errors.New("switch without args.to")
		}
		to, err := number(args.To, "args.to", math.MaxInt64)
		if err != nil {
			return err
		}
		in.To = uint64(to)
	default:
		return nil
	}
	tr, err := p.track(e)
	if err != nil {
		return err
	}
	if in.At, err = micros(e.TS, "ts"); err != nil {
		return err
	}
	if in.Name == "switch" {
		p.trackOf(tr.PID, in.To) // a lane for the receiver, named or not
	}
	tr.Instants = append(tr.Instants, in)
	return nil
}

func (p *parser) phase(e *jsonEvent) error {
	ph := Phase{Name: e.Name}
	var args struct {
		Fired   int    `json:"fired"`
		Resumed int    `json:"resumed"`
		Events  int    `json:"events"`
		Jobs    int    `json:"jobs"`
		Timeout string `json:"timeout"`
	}
	switch e.Name {
	case "timers", "batch", "poll", "door":
	default:
		return nil
	}
	if err := arguments(e, &args); err != nil {
		return err
	}
	ph.Fired, ph.Resumed, ph.Events, ph.Jobs, ph.Timeout = args.Fired, args.Resumed, args.Events, args.Jobs, args.Timeout
	tr, err := p.track(e)
	if err != nil {
		return err
	}
	if ph.Span, err = spanOf(e); err != nil {
		return err
	}
	tr.Phases = append(tr.Phases, ph)
	return nil
}

// track returns the event's track, created on first sight.
func (p *parser) track(e *jsonEvent) (*Track, error) {
	pid, err := number(e.PID, "pid", math.MaxInt32)
	if err != nil {
		return nil, err
	}
	tid, err := number(e.TID, "tid", math.MaxInt64)
	if err != nil {
		return nil, err
	}
	return p.trackOf(int(pid), uint64(tid)), nil
}

func (p *parser) trackOf(pid int, tid uint64) *Track {
	k := trackKey{pid, tid}
	tr := p.tracks[k]
	if tr == nil {
		tr = &Track{PID: pid, TID: tid, Name: "g" + strconv.FormatUint(tid, 10), SortIndex: int64(tid)}
		if tid == 0 {
			tr.Name = "hub"
		}
		p.tracks[k] = tr
	}
	return tr
}

// trace puts the tracks in display order and their events in time order.
func (p *parser) trace() *Trace {
	t := &Trace{Truncated: p.cut}
	for _, tr := range p.tracks {
		tr.Hub = p.hubs[tr.PID]
		if tr.Hub == "" {
			tr.Hub = "hub " + strconv.Itoa(tr.PID)
		}
		slices.SortStableFunc(tr.Runs, func(a, b Span) int { return cmp.Compare(a.Start, b.Start) })
		slices.SortStableFunc(tr.Instants, func(a, b Instant) int { return cmp.Compare(a.At, b.At) })
		slices.SortStableFunc(tr.Phases, func(a, b Phase) int { return cmp.Compare(a.Start, b.Start) })
		t.Tracks = append(t.Tracks, tr)
	}
	slices.SortFunc(t.Tracks, cmpTracks)
	return t
}

// arguments decodes the event's args into v; absent args leave v as is.
func arguments(e *jsonEvent, v any) error {
	if len(e.Args) == 0 || string(e.Args) == "null" {
		return nil
	}
	if err := json.Unmarshal(e.Args, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("args.%s: want %s, have %s", te.Field, te.Type, te.Value)
		}
		return fmt.Errorf("args: %w", err)
	}
	return nil
}

// number parses a non-negative integer no larger than limit.
func number(n json.RawMessage, field string, limit int64) (int64, error) {
	if len(n) == 0 {
		return 0, fmt.Errorf("no %q", field)
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || v < 0 || v > limit {
		return 0, fmt.Errorf("%s %s is not an integer in [0, %d]", field, n, limit)
	}
	return v, nil
}

// maxMicros bounds timestamps and durations so that a start plus a
// duration never overflows a time.Duration: 2^62 ns, about 146 years.
const maxMicros = float64(1<<62) / 1e3

// micros converts a microsecond count (3 decimals keep nanoseconds) to
// a duration, rounding to the nanosecond.
func micros(n json.RawMessage, field string) (time.Duration, error) {
	if len(n) == 0 {
		return 0, fmt.Errorf("no %q", field)
	}
	v, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.Abs(v) >= maxMicros {
		return 0, fmt.Errorf("%s %s is not a number of microseconds in (-%g, %g)", field, n, maxMicros, maxMicros)
	}
	return time.Duration(math.Round(v * 1e3)), nil
}

// spanOf reads ts and dur of a complete event.
func spanOf(e *jsonEvent) (Span, error) {
	start, err := micros(e.TS, "ts")
	if err != nil {
		return Span{}, err
	}
	dur, err := micros(e.Dur, "dur")
	if err != nil {
		return Span{}, err
	}
	if dur < 0 {
		return Span{}, fmt.Errorf("dur %s is negative", e.Dur)
	}
	return Span{Start: start, Dur: dur}, nil
}

// cmpTracks orders tracks for display: by hub, the loop first, then by
// sort index and tid.
func cmpTracks(a, b *Track) int {
	if c := cmp.Compare(a.PID, b.PID); c != 0 {
		return c
	}
	if (a.TID == 0) != (b.TID == 0) {
		if a.TID == 0 {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(a.SortIndex, b.SortIndex); c != 0 {
		return c
	}
	return cmp.Compare(a.TID, b.TID)
}
