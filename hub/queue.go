package hub

import "strconv"

func itoa(n int) string { return strconv.Itoa(n) }

// runQueue is the FIFO ready queue: a ring buffer that grows by doubling
// and never shrinks, so a steady state allocates nothing.
type runQueue struct {
	buf  []*G
	head int
	n    int
}

func (q *runQueue) len() int { return q.n }

func (q *runQueue) push(g *G) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = g
	q.n++
}

func (q *runQueue) pop() *G {
	g := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return g
}

func (q *runQueue) grow() {
	size := max(2*len(q.buf), 64)
	buf := make([]*G, size)
	for i := 0; i < q.n; i++ {
		buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = buf, 0
}

// coroPool keeps the coroutines of ended green threads for reuse, up to
// max of them.
type coroPool struct {
	free []*coro
	max  int
}

func (p *coroPool) get() *coro {
	n := len(p.free)
	if n == 0 {
		return nil
	}
	c := p.free[n-1]
	p.free[n-1] = nil
	p.free = p.free[:n-1]
	return c
}

func (p *coroPool) put(c *coro) bool {
	if len(p.free) >= p.max {
		return false
	}
	p.free = append(p.free, c)
	return true
}
