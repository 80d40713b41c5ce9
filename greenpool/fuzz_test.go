package greenpool_test

import (
	"slices"
	"testing"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// model is the pool's slot accounting as eventlet describes it: at most
// size tasks run; spawners beyond that wait in arrival order; a freed slot
// or a larger size goes to the oldest waiter.
type model struct {
	size    int
	running []int // task ids holding a slot
	waiting []int // task ids whose spawner waits, oldest first
	started []int
}

func (m *model) grant() {
	for len(m.running) < m.size && len(m.waiting) > 0 {
		id := m.waiting[0]
		m.waiting = m.waiting[1:]
		m.running = append(m.running, id)
		m.started = append(m.started, id)
	}
}

func (m *model) spawn(id int) {
	m.waiting = append(m.waiting, id)
	m.grant()
}

// FuzzPoolSlots drives a pool with random spawns, task ends, resizes, and
// interruptions and kills of blocked spawners, and checks Running, Waiting,
// Free and the order tasks start in against the model after every step.
func FuzzPoolSlots(f *testing.F) {
	f.Add(uint8(2), []byte{0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 0, 0, 3, 0, 4, 1})
	f.Add(uint8(0), []byte{0, 0, 2, 1, 0, 2, 4, 1, 0, 1, 0, 3, 0})
	f.Add(uint8(1), []byte{0, 0, 0, 0, 0, 4, 2, 3, 1, 2, 5, 2, 0, 1, 3, 1, 0})
	f.Add(uint8(3), []byte{0, 0, 0, 0, 0, 0, 2, 1, 1, 0, 1, 0, 1, 0, 2, 4})
	f.Fuzz(func(t *testing.T, size uint8, ops []byte) {
		if len(ops) > 128 {
			ops = ops[:128]
		}
		hubtest.Main(t, func(h *hub.Hub) error {
			m := &model{size: int(size % 5)}
			d := newDriver(t, h, m.size)
			for i := 0; i+1 < len(ops) && !t.Failed(); i += 2 {
				op, arg := ops[i]%5, int(ops[i+1])
				switch op {
				case 0:
					m.spawn(d.spawn())
				case 1:
					if len(m.running) == 0 {
						continue
					}
					k := arg % len(m.running)
					id := m.running[k]
					m.running = slices.Delete(m.running, k, k+1)
					m.grant()
					d.finish(id)
				case 2:
					m.size = arg % 5
					m.grant()
					d.resize(m.size)
				case 3, 4:
					if len(m.waiting) == 0 {
						continue
					}
					k := arg % len(m.waiting)
					id := m.waiting[k]
					m.waiting = slices.Delete(m.waiting, k, k+1)
					if op == 3 {
						d.interrupt(id)
						if err := d.spawnErr[id]; err != errInterrupt {
							t.Errorf("interrupted spawner %d: %v", id, err)
						}
					} else {
						d.kill(id)
					}
				}
				d.check("op "+string("sfrik"[op]), len(m.running), len(m.waiting), m.started)
			}
			if m.size == 0 {
				d.resize(1) // let the waiters through so that WaitAll ends
			}
			d.releaseAll()
			d.check("end", 0, 0, nil)
			return nil
		}, hubtest.Virtual())
	})
}
