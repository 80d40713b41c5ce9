package hub

import (
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// Group is several hubs in one process, a hub per core: each runs on its own
// goroutine locked to its own OS thread, and they share no green threads.
// Sockets belong to one hub each — a listener per hub with SO_REUSEPORT
// (netio.ListenConfig.ReusePort) lets the kernel spread connections among
// them, as gnet's event loops do. Work crosses hubs only through their doors:
// a goroutine picks a hub with Next (or Hub) and Submits to it; a green thread
// calls into another hub with greensync.CallHub, parking until the answer
// comes.
//
// Any goroutine may call Len, Hub, Hubs and Next; Run once.
type Group struct {
	hubs []*Hub
	next atomic.Uint64
}

// NewGroup returns a group of n hubs, each made with opts (n <= 0: one per
// CPU, runtime.NumCPU). An option that carries one object (a virtual clock,
// a tracer) gives that object to every hub; to give each its own, make the
// hubs one by one and use GroupOf.
func NewGroup(n int, opts ...Option) *Group {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	hubs := make([]*Hub, n)
	for i := range hubs {
		hubs[i] = New(opts...)
	}
	return &Group{hubs: hubs}
}

// GroupOf returns a group of the given hubs, none of them run yet.
func GroupOf(hubs ...*Hub) *Group {
	return &Group{hubs: append([]*Hub(nil), hubs...)}
}

// Len returns the number of hubs.
func (g *Group) Len() int { return len(g.hubs) }

// Hub returns the i-th hub (0 <= i < Len).
func (g *Group) Hub(i int) *Hub { return g.hubs[i] }

// Hubs returns the hubs, in order (a copy).
func (g *Group) Hubs() []*Hub { return append([]*Hub(nil), g.hubs...) }

// Next returns the hubs in turn, round robin: the way to spread goroutine
// work or handed-over connections evenly.
func (g *Group) Next() *Hub {
	return g.hubs[(g.next.Add(1)-1)%uint64(len(g.hubs))]
}

// Run runs every hub at once, each on its own goroutine and OS thread, with
// main(h, i) as hub i's first green thread, and returns when all of them have
// returned: nil, or the hubs' errors joined, each prefixed with its index.
// A hub that fails does not stop the others; main decides (a cross-hub call,
// a shared context) whether they should follow.
func (g *Group) Run(main func(h *Hub, i int) error) error {
	errs := make([]error, len(g.hubs))
	var wg sync.WaitGroup
	for i, h := range g.hubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.Run(func() error { return main(h, i) }); err != nil {
				errs[i] = &GroupError{Index: i, Err: err}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// GroupError is the error of one hub of a Group's Run.
type GroupError struct {
	Index int // the hub's index in the group
	Err   error
}

func (e *GroupError) Error() string { return "hub " + strconv.Itoa(e.Index) + ": " + e.Err.Error() }

func (e *GroupError) Unwrap() error { return e.Err }
