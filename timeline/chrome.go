package timeline

import (
	"errors"
	"fmt"
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
// span is written when it ends); Close finishes the document.
//
// The hubs never wait for the writer: events are appended to a chunk in
// memory, and a full chunk (64 KiB, whole events only) is handed to a
// goroutine of the Chrome that writes it. If that goroutine falls behind
// by more than 16 MiB — a slow pipe, a stalled disk — the next full chunk
// is dropped rather than the hub blocked; Close reports how many events
// were lost. Because only whole events are written, a file cut
// short by a crash still reads (Read marks it Truncated).
//
// One Chrome may serve several hubs at once (hub.Group gives its tracer to
// every hub): each hub is a process, numbered in the order the hubs are
// first seen. Its methods are called on the hubs' threads; a sync.Mutex,
// held only while an event is appended (never across a park or a write),
// keeps concurrent hubs apart. Close must be called: it ends the writing
// goroutine.
type Chrome struct {
	start time.Time // the origin of timestamps, read with the monotonic clock

	mu        sync.Mutex // held only while appending; never across a park or a write
	buf       []byte     // the chunk being filled: whole events, not yet handed over
	chunkFrom int        // c.events when buf was last handed over
	hubs      map[*hub.Hub]*hubTrack
	events    int    // events appended: every one but the first has a comma before it
	flows     uint64 // the last switch arrow's id
	closed    bool
	dropped   int // events lost because the writer fell behind
	lostBytes int

	full chan []byte   // chunks for the writer goroutine
	free chan []byte   // chunks it has written, for reuse
	done chan struct{} // closed when the writer goroutine has ended
	werr error         // the writer's first error; read after done is closed
	file io.Closer     // closed by Close: the file Create opened
}

const (
	chunkSize = 64 << 10 // a chunk is handed to the writer once it holds this much
	// queued full chunks (16 MiB) may wait for the writer before one is
	// dropped: slack for a writer goroutine that a busy machine runs late.
	queued = 256
	spare  = 4 // written chunks kept for reuse
)

// hubTrack is what Chrome knows of one hub.
type hubTrack struct {
	pid   int
	names map[uint64]string // the live G's by ID, with the name their track has

	running  *hub.G // the G whose run span is open, nil if none
	runStart time.Duration

	phaseStart  [len(phaseArgs)]time.Duration // by hub.Phase
	pollStart   time.Duration
	pollTimeout time.Duration
}

// NewChrome returns a tracer writing to w from a goroutine of its own.
// Close must be called to finish the document and end that goroutine; it
// does not close w.
func NewChrome(w io.Writer) *Chrome {
	c := &Chrome{
		start: time.Now(),
		buf:   make([]byte, 0, chunkSize+chunkSize/4),
		hubs:  make(map[*hub.Hub]*hubTrack),
		full:  make(chan []byte, queued),
		free:  make(chan []byte, spare),
		done:  make(chan struct{}),
	}
	c.buf = append(c.buf, `{"displayTimeUnit":"ns","traceEvents":[`...)
	go c.write(w)
	return c
}

// write is the writer goroutine: it writes the chunks handed over until
// Close closes c.full, keeping the first error.
func (c *Chrome) write(w io.Writer) {
	defer close(c.done)
	for b := range c.full {
		if c.werr == nil {
			_, c.werr = w.Write(b)
		}
		select {
		case c.free <- b[:0]:
		default:
		}
	}
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
// finishes the JSON document and waits until it is written. It returns
// the first error met writing, an error saying how many events were
// dropped if the writer fell behind, or the error closing the file Create
// opened. Events after Close are ignored. Any goroutine may call it, once
// the hubs are done or while they run; it waits for the writer.
func (c *Chrome) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	now := c.now()
	for _, ht := range c.hubs {
		c.buf = c.endRun(c.buf, ht, now)
	}
	c.closed = true // no hook hands a chunk over from here on
	last := append(c.buf, "\n]}\n"...)
	c.buf = nil
	c.mu.Unlock()

	c.full <- last
	close(c.full)
	<-c.done
	err := c.werr
	if c.dropped > 0 {
		err = errors.Join(err, fmt.Errorf("timeline: %d events (%d bytes) dropped: the trace's writer fell behind the hubs", c.dropped, c.lostBytes))
	}
	if c.file != nil {
		err = errors.Join(err, c.file.Close())
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

// lock takes c.mu for a hook and reports whether the trace is still
// open; when it is not, it has let go of the lock again.
func (c *Chrome) lock() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	return true
}

// unlock ends a hook: it hands the chunk over if the hook filled it, and
// lets go of c.mu.
func (c *Chrome) unlock() {
	c.put()
	c.mu.Unlock()
}

// lockLoop is lock for the loop's hooks: it returns the state of the hub
// whose thread calls, holding c.mu, or nil, not holding it, when the
// trace is closed or the caller is on no hub's thread.
func (c *Chrome) lockLoop() *hubTrack {
	h := hub.CallerHub()
	if h == nil || !c.lock() {
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

// put hands the chunk to the writer goroutine once it is full, after a
// hook has appended its events. A writer with queued chunks still to
// write costs the chunk, never a wait. The caller holds c.mu.
func (c *Chrome) put() {
	if len(c.buf) < chunkSize {
		return
	}
	select {
	case c.full <- c.buf:
		select {
		case b := <-c.free:
			c.buf = b
		default:
			c.buf = make([]byte, 0, chunkSize+chunkSize/4)
		}
	default:
		c.dropped += c.events - c.chunkFrom
		c.lostBytes += len(c.buf)
		c.buf = c.buf[:0]
	}
	c.chunkFrom = c.events
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
	if !c.lock() {
		return
	}
	defer c.unlock()
	ht := c.trackG(g)
	c.buf = append(c.instant(c.buf, "spawn", ht.pid, g.ID(), now), '}')
}

// Switch ends from's run span and begins to's, with a switch instant on
// from's track and an arrow from there to to's.
func (c *Chrome) Switch(from, to *hub.G) {
	now := c.now()
	if !c.lock() {
		return
	}
	defer c.unlock()
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
}

// Resume begins g's run span again if a loop phase ended it: g parked or
// yielded, the loop's phases ran on its stack, and g was next to run. (A
// switch to g begins its span at the switch.)
func (c *Chrome) Resume(g *hub.G) {
	now := c.now()
	if !c.lock() {
		return
	}
	defer c.unlock()
	if ht := c.trackG(g); ht.running == nil {
		ht.running, ht.runStart = g, now
	}
}

// Block writes a block instant with the reason.
func (c *Chrome) Block(g *hub.G, on hub.Reason) {
	now := c.now()
	if !c.lock() {
		return
	}
	defer c.unlock()
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
}

// Wake writes a wake instant.
func (c *Chrome) Wake(g *hub.G) {
	now := c.now()
	if !c.lock() {
		return
	}
	defer c.unlock()
	ht := c.trackG(g)
	c.buf = append(c.instant(c.buf, "wake", ht.pid, g.ID(), now), '}')
}

// Exit writes an exit instant, with the error if g failed. g's run span
// goes on to the switch that follows (or a loop phase), so that the
// switch's arrow leaves from inside it.
func (c *Chrome) Exit(g *hub.G, err error) {
	now := c.now()
	if !c.lock() {
		return
	}
	defer c.unlock()
	ht := c.trackG(g)
	b := c.instant(c.buf, "exit", ht.pid, g.ID(), now)
	if err != nil {
		b = append(b, `,"args":{"error":`...)
		b = appendString(b, err.Error())
		b = append(b, '}')
	}
	c.buf = append(b, '}')
	delete(ht.names, g.ID())
}

// PhaseBegin notes when a phase of the calling hub's loop began. A G
// whose run span is open has parked, yielded or ended, and the loop's
// phases run on its stack: its span ends here.
func (c *Chrome) PhaseBegin(p hub.Phase) {
	now := c.now()
	ht := c.lockLoop()
	if ht == nil {
		return
	}
	defer c.unlock()
	if int(p) < len(ht.phaseStart) {
		c.buf = c.endRun(c.buf, ht, now)
		ht.phaseStart[p] = now
	}
}

// phaseArgs are the names of the phases' counts in the trace.
var phaseArgs = [...]string{hub.PhaseTimers: "fired", hub.PhaseBatch: "resumed", hub.PhaseDoor: "jobs"}

// PhaseEnd writes the phase as a span on the hub's track.
func (c *Chrome) PhaseEnd(p hub.Phase, n int) {
	now := c.now()
	ht := c.lockLoop()
	if ht == nil {
		return
	}
	defer c.unlock()
	if int(p) >= len(ht.phaseStart) {
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
}

// PollBegin notes when the calling hub's poll began, and its timeout.
func (c *Chrome) PollBegin(timeout time.Duration) {
	now := c.now()
	ht := c.lockLoop()
	if ht == nil {
		return
	}
	defer c.unlock()
	c.buf = c.endRun(c.buf, ht, now) // as in PhaseBegin
	ht.pollStart, ht.pollTimeout = now, timeout
}

// PollEnd writes the poll as a span on the hub's track, with its timeout
// and the events it returned.
func (c *Chrome) PollEnd(events int) {
	now := c.now()
	ht := c.lockLoop()
	if ht == nil {
		return
	}
	defer c.unlock()
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
