package hub_test

import (
	"fmt"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"golang.org/x/sys/unix"
)

// The helpers hub and greenthread tests share (internal/hubtest).
var (
	run        = hubtest.Run
	mustRun    = hubtest.MustRun
	catch      = hubtest.Catch
	yieldUntil = hubtest.YieldUntil
	errTest    = hubtest.ErrTest
	gettid     = hubtest.Gettid
	pipe       = hubtest.Pipe
)

const haveGettid = hubtest.HaveGettid

// group spawns green threads with the hub's own API and waits for them
// (greenthread is the friendlier way; these tests stay one level down).
type group struct {
	h      *hub.Hub
	live   int
	waiter *hub.G
}

func newGroup(h *hub.Hub) *group { return &group{h: h} }

// spawn starts fn in a green thread; onExit, if not nil, runs when it ends.
func (gr *group) spawn(fn func() error, onExit func(*hub.G)) (*hub.G, error) {
	g, err := gr.h.Raw().Spawn(fn, func(g *hub.G) {
		if onExit != nil {
			onExit(g)
		}
		gr.live--
		if gr.live == 0 && gr.waiter != nil {
			gr.h.Raw().Ready(gr.waiter, nil)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("spawn: %w", err)
	}
	gr.live++
	return g, nil
}

// wait parks the calling green thread until every green thread of the
// group has ended.
func (gr *group) wait() error {
	for gr.live > 0 {
		gr.waiter = gr.h.Raw().Current()
		err := gr.h.Raw().Park(hub.Block("group"))
		gr.waiter = nil
		if err != nil {
			return err
		}
	}
	return nil
}

// readSome reads from a registered non-blocking fd, parking on it until
// data (or EOF) comes.
func readSome(d *hub.FD, buf []byte) (int, error) {
	for {
		n, err := unix.Read(d.Sysfd(), buf)
		if err == unix.EAGAIN {
			d.ClearReadReady()
			if err := d.WaitRead(); err != nil {
				return 0, err
			}
			continue
		}
		return n, err
	}
}
