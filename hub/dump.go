package hub

import (
	"fmt"
	"io"
	"time"
)

// Dump writes the hub's state for a person to read: every live green
// thread with its state and what it waits for, the registered file
// descriptors with their waiters (eventlet's format_hub_listeners), and the
// pending timers (format_hub_timers). Hub thread only.
func (h *Hub) Dump(w io.Writer) error {
	if _, err := h.caller(); err != nil {
		return err
	}
	h.dump(w)
	return nil
}

func (h *Hub) dump(w io.Writer) {
	fmt.Fprintf(w, "hub: %d green threads, %d ready, %d fds, %d timers\n", h.live, h.runq.len(), h.nfds, h.timers.Len())
	for g := h.liveHead; g != nil; g = g.liveNext {
		fmt.Fprintf(w, "  %-12s %-8s", g.String(), g.state)
		if g.state == gParked {
			fmt.Fprintf(w, " on %s", g.reason)
		}
		fmt.Fprintln(w)
	}
	for _, d := range h.fds {
		if d == nil {
			continue
		}
		fmt.Fprintf(w, "  fd %-5d reader=%s writer=%s\n", d.sysfd, d.reader, d.writer)
	}
	if t := h.timers.Peek(); t != nil {
		fmt.Fprintf(w, "  next timer in %s\n", (t.When() - h.clock.Now()).Round(time.Microsecond))
	}
	fmt.Fprintf(w, "  %d offloaded calls in flight, %d references held, %d door items queued\n", h.offload.inflight, h.refs.Load(), h.door.len())
}

// Waiters returns the green threads parked on d for reading and writing
// (nil where none). Hub thread only.
func (d *FD) Waiters() (reader, writer *G) { return d.reader, d.writer }
