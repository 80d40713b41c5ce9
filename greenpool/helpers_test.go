package greenpool_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
)

// latch parks green threads until it is opened.
type latch struct {
	h    *hub.Hub
	open bool
	ws   []*hub.G
}

func (l *latch) wait() error {
	for !l.open {
		l.ws = append(l.ws, l.h.Raw().Current())
		if err := l.h.Raw().Park(hub.Block("latch")); err != nil {
			return err
		}
	}
	return nil
}

func (l *latch) release() {
	l.open = true
	for _, g := range l.ws {
		l.h.Raw().Ready(g, nil)
	}
	l.ws = nil
}

// settle lets every ready green thread run until all are blocked again.
func settle(h *hub.Hub) {
	for range 12 {
		h.Raw().Yield()
	}
}

var errInterrupt = errors.New("test: interrupted")

// driver spawns tasks into a pool, each from its own spawner green thread,
// each task blocking on its own latch, and records what happened.
type driver struct {
	t        *testing.T
	h        *hub.Hub
	p        *greenpool.Pool
	gates    []*latch
	spawners []*greenthread.Thread[struct{}]
	spawnErr []error
	started  []int // task ids in the order they started
}

func newDriver(t *testing.T, h *hub.Hub, size int) *driver {
	return &driver{t: t, h: h, p: greenpool.New(h, size)}
}

// spawn starts a spawner for a new task and returns the task's id.
func (d *driver) spawn() int {
	id := len(d.gates)
	d.gates = append(d.gates, &latch{h: d.h})
	d.spawnErr = append(d.spawnErr, nil)
	th := greenthread.Spawn(d.h, func() (struct{}, error) {
		err := d.p.SpawnN(func() {
			d.started = append(d.started, id)
			d.gates[id].wait()
		})
		d.spawnErr[id] = err // recorded here: not a failure to report
		return struct{}{}, nil
	})
	d.spawners = append(d.spawners, th)
	settle(d.h)
	return id
}

func (d *driver) finish(id int) {
	d.gates[id].release()
	settle(d.h)
}

func (d *driver) resize(n int) {
	if err := d.p.Resize(n); err != nil {
		d.t.Errorf("Resize(%d): %v", n, err)
	}
	settle(d.h)
}

func (d *driver) interrupt(id int) {
	d.h.Raw().Interrupt(d.spawners[id].G(), errInterrupt)
	settle(d.h)
}

func (d *driver) kill(id int) {
	if err := d.spawners[id].Kill(); err != nil {
		d.t.Errorf("Kill spawner %d: %v", id, err)
	}
	settle(d.h)
}

// check compares the pool's counters and the start order with what is
// expected.
func (d *driver) check(step string, running, waiting int, started []int) {
	d.t.Helper()
	if got := d.p.Running(); got != running {
		d.t.Errorf("%s: Running() = %d, want %d", step, got, running)
	}
	if got := d.p.Waiting(); got != waiting {
		d.t.Errorf("%s: Waiting() = %d, want %d", step, got, waiting)
	}
	if got, want := d.p.Free(), d.p.Size()-running; got != want {
		d.t.Errorf("%s: Free() = %d, want %d", step, got, want)
	}
	if started != nil && !slices.Equal(d.started, started) {
		d.t.Errorf("%s: started %v, want %v", step, d.started, started)
	}
}

// releaseAll opens every gate and waits for the pool to drain.
func (d *driver) releaseAll() {
	for _, g := range d.gates {
		g.release()
	}
	if err := d.p.WaitAll(); err != nil {
		d.t.Errorf("WaitAll: %v", err)
	}
	settle(d.h)
}
