package timeline

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/timers"
)

// Chrome is a hub.Tracer that writes the Chrome trace-event JSON format,
// which Perfetto (ui.perfetto.dev) and chrome://tracing load: a process per
// hub, a track per green thread or greenlet with a span for every stretch
// it ran, instants for its spawn, blocks (with the reason), wake-ups,
// switches (with arrows) and exit, and the loop's phases on the hub's own
// track. The events are streamed as they come, in the order they come (a
// span is written when it ends), through a buffer; Close finishes the
// document.
//
// One Chrome may serve several hubs at once (hub.Group gives its tracer to
// every hub): each hub is a process, numbered in the order the hubs are
// first seen. Its methods are called on the hubs' threads; a sync.Mutex,
// held only while an event is appended to the buffer and never across a
// park, keeps concurrent hubs apart. A hub waits on it only for another
// hub's append or, when the 64 KiB buffer is full, for a write to the
// underlying writer — so give it a file or memory, not a slow pipe. A
// write error is remembered, later events are dropped, and Close returns
// it.
type Chrome struct {
	start time.Time // the origin of timestamps, read with the monotonic clock

	mu     sync.Mutex // held only while appending; never across a park
	w      *bufio.Writer
	file   io.Closer // closed by Close: the file Create opened
	buf    []byte    // the events of one hook, before they go to w
	hubs   map[*hub.Hub]*hubTrack
	events int    // events written: every one but the first has a comma before it
	flows  uint64 // the last switch arrow's id
	closed bool
}

// hubTrack is what Chrome knows of one hub.
type hubTrack struct {
	pid   int
	names map[uint64]string // the live G's by ID, with the name their track has

	running  *hub.G // the G whose run span is open, nil if none
	runStart time.Duration

	phaseStart  [3]time.Duration // by hub.Phase
	pollStart   time.Duration
	pollTimeout time.Duration
}

// NewChrome returns a tracer writing to w. Close must be called to finish
// the document; it does not close w.
func NewChrome(w io.Writer) *Chrome {
	c := &Chrome{
		start: time.Now(),
		w:     bufio.NewWriterSize(w, 64<<10),
		hubs:  make(map[*hub.Hub]*hubTrack),
	}
	c.w.WriteString(`{"displayTimeUnit":"ns","traceEvents":[`)
	return c
}

// Create creates (or truncates) the file at path and returns a tracer
// writing to it; Close closes the file.
func Create(path string) (*Chrome, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	c := NewChrome(f)
	c.file = f
	return c, nil
}

// Close ends the spans still open (a G running when the trace stopped),
// finishes the JSON document and flushes it. It returns the first error
// met writing, or closing the file Create opened. Events after Close are
// dropped. Any goroutine may call it, once the hubs are done or while they
// run.
func (c *Chrome) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	now := c.now()
	for _, ht := range c.hubs {
		c.buf = c.endRun(c.buf[:0], ht, now)
		c.put()
	}
	c.closed = true
	c.w.WriteString("\n]}\n")
	err := c.w.Flush()
	if c.file != nil {
		if cerr := c.file.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func (c *Chrome) now() time.Duration { return time.Since(c.start) }

// track returns h's state, making it — and writing the hub's metadata — the
// first time. The caller holds c.mu.
func (c *Chrome) track(h *hub.Hub) *hubTrack {
	ht := c.hubs[h]
	if ht == nil {
		ht = &hubTrack{pid: len(c.hubs) + 1, names: make(map[uint64]string)}
		c.hubs[h] = ht
		b := c.buf
		b = c.sep(b)
		b = append(b, `{"ph":"M","name":"process_name","pid":`...)
		b = strconv.AppendInt(b, int64(ht.pid), 10)
		b = append(b, `,"args":{"name":"hub `...)
		b = strconv.AppendInt(b, int64(ht.pid), 10)
		b = append(b, `"}}`...)
		b = c.threadMeta(b, ht, 0, "hub")
		c.buf = b
	}
	return ht
}

// trackG returns g's hub's state after writing g's track metadata if the
// track is new or g was renamed since. The caller holds c.mu.
func (c *Chrome) trackG(g *hub.G) *hubTrack {
	ht := c.track(g.Hub())
	name := g.Name()
	if old, ok := ht.names[g.ID()]; !ok || old != name {
		ht.names[g.ID()] = name
		c.buf = c.threadMeta(c.buf, ht, g.ID(), name)
	}
	return ht
}

// loopTrack returns the state of the hub whose thread calls, nil if none.
// The caller holds c.mu.
func (c *Chrome) loopTrack(h *hub.Hub) *hubTrack {
	if h == nil {
		return nil
	}
	return c.track(h)
}

// threadMeta appends the thread_name and thread_sort_index events of a
// track.
func (c *Chrome) threadMeta(b []byte, ht *hubTrack, tid uint64, name string) []byte {
	b = c.sep(b)
	b = append(b, `{"ph":"M","name":"thread_name","pid":`...)
	b = strconv.AppendInt(b, int64(ht.pid), 10)
	b = append(b, `,"tid":`...)
	b = strconv.AppendUint(b, tid, 10)
	b = append(b, `,"args":{"name":`...)
	b = appendName(b, name, tid)
	b = append(b, `}}`...)
	b = c.sep(b)
	b = append(b, `{"ph":"M","name":"thread_sort_index","pid":`...)
	b = strconv.AppendInt(b, int64(ht.pid), 10)
	b = append(b, `,"tid":`...)
	b = strconv.AppendUint(b, tid, 10)
	b = append(b, `,"args":{"sort_index":`...)
	b = strconv.AppendUint(b, tid, 10)
	return append(b, `}}`...)
}

// sep appends the separator that goes before an event and counts it.
func (c *Chrome) sep(b []byte) []byte {
	if c.events > 0 {
		b = append(b, ',')
	}
	c.events++
	return append(b, '\n')
}

// put writes the events appended to c.buf and empties it. The caller holds
// c.mu.
func (c *Chrome) put() {
	if len(c.buf) > 0 {
		c.w.Write(c.buf) // an error sticks in the bufio.Writer; Close returns it
		c.buf = c.buf[:0]
	}
}

// event appends the start of an event: ph, cat, name, pid, tid, ts. The
// caller appends the rest and the closing brace.
func (c *Chrome) event(b []byte, ph, cat, name string, pid int, tid uint64, ts time.Duration) []byte {
	b = c.sep(b)
	b = append(b, `{"ph":"`...)
	b = append(b, ph...)
	b = append(b, `","cat":"`...)
	b = append(b, cat...)
	b = append(b, `","name":"`...)
	b = append(b, name...)
	b = append(b, `","pid":`...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, `,"tid":`...)
	b = strconv.AppendUint(b, tid, 10)
	b = append(b, `,"ts":`...)
	return appendMicros(b, ts)
}

// instant appends a thread-scoped instant event of category sched, without
// its closing brace.
func (c *Chrome) instant(b []byte, name string, pid int, tid uint64, ts time.Duration) []byte {
	b = c.event(b, "i", "sched", name, pid, tid, ts)
	return append(b, `,"s":"t"`...)
}

// endRun appends the run span of the G running on ht, if one is, ending at
// now.
func (c *Chrome) endRun(b []byte, ht *hubTrack, now time.Duration) []byte {
	g := ht.running
	if g == nil {
		return b
	}
	ht.running = nil
	b = c.sep(b)
	b = append(b, `{"ph":"X","cat":"run","name":`...)
	b = appendName(b, g.Name(), g.ID()) // Name is safe from any goroutine (Close)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(ht.pid), 10)
	b = append(b, `,"tid":`...)
	b = strconv.AppendUint(b, g.ID(), 10)
	b = append(b, `,"ts":`...)
	b = appendMicros(b, ht.runStart)
	b = append(b, `,"dur":`...)
	b = appendMicros(b, now-ht.runStart)
	return append(b, '}')
}

// Spawn writes the new G's track and a spawn instant.
func (c *Chrome) Spawn(g *hub.G) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	ht := c.trackG(g)
	c.buf = append(c.instant(c.buf, "spawn", ht.pid, g.ID(), now), '}')
	c.put()
}

// Switch ends from's run span and begins to's, with a switch instant on
// from's track and an arrow from there to to's.
func (c *Chrome) Switch(from, to *hub.G) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	ht := c.track(from.Hub())
	if from.ID() != 0 && !from.Dead() {
		c.trackG(from) // renamed while it ran: the span has the new name
	}
	c.buf = c.endRun(c.buf, ht, now)
	if to.ID() != 0 {
		c.trackG(to)
	}
	b := c.buf
	b = c.instant(b, "switch", ht.pid, from.ID(), now)
	b = append(b, `,"args":{"to":`...)
	b = strconv.AppendUint(b, to.ID(), 10)
	b = append(b, `}}`...)
	c.flows++
	b = c.event(b, "s", "switch", "switch", ht.pid, from.ID(), now)
	b = append(b, `,"id":`...)
	b = strconv.AppendUint(b, c.flows, 10)
	b = append(b, '}')
	b = c.event(b, "f", "switch", "switch", ht.pid, to.ID(), now)
	b = append(b, `,"bp":"e","id":`...)
	b = strconv.AppendUint(b, c.flows, 10)
	b = append(b, '}')
	c.buf = b
	if to.ID() != 0 {
		ht.running, ht.runStart = to, now
	}
	c.put()
}

// Resume does nothing: a span begins at the switch.
func (c *Chrome) Resume(*hub.G) {}

// Block writes a block instant with the reason.
func (c *Chrome) Block(g *hub.G, on hub.Reason) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	ht := c.trackG(g)
	b := c.instant(c.buf, "block", ht.pid, g.ID(), now)
	b = append(b, `,"args":{"reason":`...)
	b = appendString(b, on.What)
	if on.FD >= 0 {
		b = b[:len(b)-1] // reopen the string: "read fd 5"
		b = append(b, " fd "...)
		b = strconv.AppendInt(b, int64(on.FD), 10)
		b = append(b, '"')
	}
	c.buf = append(b, `}}`...)
	c.put()
}

// Wake writes a wake instant.
func (c *Chrome) Wake(g *hub.G) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	ht := c.trackG(g)
	c.buf = append(c.instant(c.buf, "wake", ht.pid, g.ID(), now), '}')
	c.put()
}

// Exit ends g's run span and writes an exit instant, with the error if g
// failed.
func (c *Chrome) Exit(g *hub.G, err error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	ht := c.trackG(g)
	b := c.buf
	if ht.running == g {
		b = c.endRun(b, ht, now)
	}
	b = c.instant(b, "exit", ht.pid, g.ID(), now)
	if err != nil {
		b = append(b, `,"args":{"error":`...)
		b = appendString(b, err.Error())
		b = append(b, '}')
	}
	c.buf = append(b, '}')
	delete(ht.names, g.ID())
	c.put()
}

// PhaseBegin notes when a phase of the calling hub's loop began.
func (c *Chrome) PhaseBegin(p hub.Phase) {
	now := c.now()
	h := hub.CallerHub()
	c.mu.Lock()
	defer c.mu.Unlock()
	if ht := c.loopTrack(h); ht != nil && !c.closed && int(p) < len(ht.phaseStart) {
		ht.phaseStart[p] = now
		c.put()
	}
}

// phaseArgs are the names of the phases' counts in the trace.
var phaseArgs = [...]string{hub.PhaseTimers: "fired", hub.PhaseBatch: "resumed", hub.PhaseDoor: "jobs"}

// PhaseEnd writes the phase as a span on the hub's track.
func (c *Chrome) PhaseEnd(p hub.Phase, n int) {
	now := c.now()
	h := hub.CallerHub()
	c.mu.Lock()
	defer c.mu.Unlock()
	ht := c.loopTrack(h)
	if ht == nil || c.closed || int(p) >= len(ht.phaseStart) {
		return
	}
	start := ht.phaseStart[p]
	b := c.event(c.buf, "X", "loop", p.String(), ht.pid, 0, start)
	b = append(b, `,"dur":`...)
	b = appendMicros(b, now-start)
	b = append(b, `,"args":{"`...)
	b = append(b, phaseArgs[p]...)
	b = append(b, `":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	c.buf = append(b, `}}`...)
	c.put()
}

// PollBegin notes when the calling hub's poll began, and its timeout.
func (c *Chrome) PollBegin(timeout time.Duration) {
	now := c.now()
	h := hub.CallerHub()
	c.mu.Lock()
	defer c.mu.Unlock()
	if ht := c.loopTrack(h); ht != nil && !c.closed {
		ht.pollStart, ht.pollTimeout = now, timeout
		c.put()
	}
}

// PollEnd writes the poll as a span on the hub's track, with its timeout
// and the events it returned.
func (c *Chrome) PollEnd(events int) {
	now := c.now()
	h := hub.CallerHub()
	c.mu.Lock()
	defer c.mu.Unlock()
	ht := c.loopTrack(h)
	if ht == nil || c.closed {
		return
	}
	b := c.event(c.buf, "X", "loop", "poll", ht.pid, 0, ht.pollStart)
	b = append(b, `,"dur":`...)
	b = appendMicros(b, now-ht.pollStart)
	b = append(b, `,"args":{"timeout":"`...)
	if ht.pollTimeout < 0 {
		b = append(b, "forever"...)
	} else {
		b = append(b, ht.pollTimeout.String()...)
	}
	b = append(b, `","events":`...)
	b = strconv.AppendInt(b, int64(events), 10)
	c.buf = append(b, `}}`...)
	c.put()
}

// TimerFire does nothing: the timers phase counts the timers.
func (c *Chrome) TimerFire(*timers.Timer) {}

// appendMicros appends d in microseconds with three decimals: the
// trace-event format's unit, at nanosecond precision.
func appendMicros(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	ns := int64(d)
	b = strconv.AppendInt(b, ns/1000, 10)
	frac := ns % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// appendName appends a track's name as a JSON string: name, or g<tid> if
// it is empty (hub for tid 0).
func appendName(b []byte, name string, tid uint64) []byte {
	if name != "" {
		return appendString(b, name)
	}
	if tid == 0 {
		return append(b, `"hub"`...)
	}
	b = append(b, `"g`...)
	b = strconv.AppendUint(b, tid, 10)
	return append(b, '"')
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// control characters are escaped; the result always parses back.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
