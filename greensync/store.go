package greensync

// store is the order a queue keeps its items in: FIFO, LIFO or priority.
// Operations allocate only when the store grows.
type store[T any] interface {
	len() int
	push(v T)
	pop() T
	// unpop puts back an item that pop returned, so that pop returns it
	// next: an item handed to a getter that was killed before it ran.
	unpop(v T)
}

// fifo is a ring buffer that doubles when full and never shrinks.
type fifo[T any] struct {
	buf  []T
	head int
	n    int
}

func (q *fifo[T]) len() int { return q.n }

func (q *fifo[T]) push(v T) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = v
	q.n++
}

func (q *fifo[T]) pop() T {
	var zero T
	v := q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return v
}

func (q *fifo[T]) unpop(v T) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.head = (q.head - 1) & (len(q.buf) - 1)
	q.buf[q.head] = v
	q.n++
}

func (q *fifo[T]) grow() {
	buf := make([]T, max(2*len(q.buf), 8))
	for i := 0; i < q.n; i++ {
		buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = buf, 0
}

// lifo is a stack.
type lifo[T any] struct{ items []T }

func (s *lifo[T]) len() int  { return len(s.items) }
func (s *lifo[T]) push(v T)  { s.items = append(s.items, v) }
func (s *lifo[T]) unpop(v T) { s.items = append(s.items, v) }
func (s *lifo[T]) pop() T {
	var zero T
	n := len(s.items) - 1
	v := s.items[n]
	s.items[n] = zero
	s.items = s.items[:n]
	return v
}

// prio is a binary min-heap under less; equal items come out in the order
// they went in (a sequence number breaks ties), which eventlet, built on
// heapq, does not promise.
type prio[T any] struct {
	items []prioItem[T]
	less  func(a, b T) bool
	seq   uint64
}

type prioItem[T any] struct {
	v   T
	seq uint64
}

func (p *prio[T]) before(i, j int) bool {
	a, b := &p.items[i], &p.items[j]
	if p.less(a.v, b.v) {
		return true
	}
	if p.less(b.v, a.v) {
		return false
	}
	return a.seq < b.seq
}

func (p *prio[T]) len() int { return len(p.items) }

func (p *prio[T]) push(v T) {
	p.seq++
	p.add(prioItem[T]{v: v, seq: p.seq})
}

// unpop gives the item the smallest sequence number, so it comes first
// among its equals.
func (p *prio[T]) unpop(v T) { p.add(prioItem[T]{v: v, seq: 0}) }

func (p *prio[T]) add(it prioItem[T]) {
	p.items = append(p.items, it)
	for i := len(p.items) - 1; i > 0; {
		parent := (i - 1) / 2
		if !p.before(i, parent) {
			break
		}
		p.items[i], p.items[parent] = p.items[parent], p.items[i]
		i = parent
	}
}

func (p *prio[T]) pop() T {
	n := len(p.items) - 1
	v := p.items[0].v
	p.items[0] = p.items[n]
	p.items[n] = prioItem[T]{}
	p.items = p.items[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && p.before(l, m) {
			m = l
		}
		if r := l + 1; r < n && p.before(r, m) {
			m = r
		}
		if m == i {
			break
		}
		p.items[i], p.items[m] = p.items[m], p.items[i]
		i = m
	}
	return v
}
