package greenpool_test

import (
	"errors"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greenpool"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

type pair struct {
	v   int
	err error
}

func collect(seq iter.Seq2[int, error]) []pair {
	var out []pair
	for v, err := range seq {
		out = append(out, pair{v, err})
	}
	return out
}

func TestImapOrder(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		delays []int // milliseconds each task sleeps: they finish out of order
	}{
		{name: "empty input", size: 2},
		{name: "reverse finish", size: 4, delays: []int{40, 30, 20, 10}},
		{name: "more tasks than slots", size: 2, delays: []int{5, 1, 4, 2, 3, 9, 1}},
		{name: "one slot", size: 1, delays: []int{3, 1, 2}},
		{name: "pool larger than input", size: 16, delays: []int{2, 2, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				p := greenpool.New(h, tc.size)
				active, peak := 0, 0
				var finished []int
				square := func(i int) (int, error) {
					active++
					peak = max(peak, active)
					defer func() { active-- }()
					greenthread.Sleep(h, time.Duration(tc.delays[i])*time.Millisecond)
					finished = append(finished, i)
					return i * i, nil
				}
				got := collect(greenpool.Imap(p, square, func(yield func(int) bool) {
					for i := range tc.delays {
						if !yield(i) {
							return
						}
					}
				}))
				if len(got) != len(tc.delays) {
					t.Errorf("%d results, want %d", len(got), len(tc.delays))
				}
				for i, r := range got {
					if r.v != i*i || r.err != nil {
						t.Errorf("result %d: %d, %v; want %d", i, r.v, r.err, i*i)
					}
				}
				if peak > tc.size {
					t.Errorf("%d tasks ran at once, pool size %d", peak, tc.size)
				}
				if len(tc.delays) > 1 && slices.IsSorted(finished) && tc.name == "reverse finish" {
					t.Errorf("tasks finished in order %v: the test does not exercise reordering", finished)
				}
				if p.Running() != 0 || p.Waiting() != 0 {
					t.Errorf("after Imap: Running %d Waiting %d", p.Running(), p.Waiting())
				}
				return nil
			}, hubtest.Virtual())
		})
	}
}

func TestImapErrors(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 2)
		errOdd := errors.New("odd")
		f := func(i int) (int, error) {
			switch {
			case i == 4:
				panic("four")
			case i%2 == 1:
				return 0, errOdd
			}
			return i, nil
		}
		got := collect(greenpool.Imap(p, f, slices.Values([]int{0, 1, 2, 3, 4, 6})))
		if len(got) != 6 {
			t.Errorf("%d results, want 6: errors do not stop Imap", len(got))
			return nil
		}
		var pe *hub.PanicError
		for i, want := range []pair{{0, nil}, {0, errOdd}, {2, nil}, {0, errOdd}, {0, nil}, {6, nil}} {
			switch {
			case i == 4:
				if !errors.As(got[i].err, &pe) || pe.Value != "four" {
					t.Errorf("result 4: %v, want the panic", got[i].err)
				}
			case got[i] != want:
				t.Errorf("result %d: %v, want %v", i, got[i], want)
			}
		}
		return nil
	}, hubtest.Virtual())
}

// A panic in the input sequence ends the iteration after the results
// spawned before it, with the panic as the last error.
func TestImapInputPanics(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 2)
		in := func(yield func(int) bool) {
			yield(1)
			yield(2)
			panic("input broke")
		}
		got := collect(greenpool.Imap(p, func(i int) (int, error) { return i, nil }, in))
		var pe *hub.PanicError
		if len(got) != 3 || got[0] != (pair{1, nil}) || got[1] != (pair{2, nil}) || !errors.As(got[2].err, &pe) {
			t.Errorf("got %v, want 1, 2, then the input's panic", got)
		}
		return nil
	}, hubtest.Virtual())
}

func TestStarmap(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 3)
		pairs := [][2]int{{2, 3}, {4, 5}, {1, 1}, {7, 2}, {3, 3}}
		in := func(yield func(int, int) bool) {
			for _, ab := range pairs {
				if !yield(ab[0], ab[1]) {
					return
				}
			}
		}
		mul := func(a, b int) (int, error) {
			greenthread.Sleep(h, time.Duration(10-a)*time.Millisecond)
			return a * b, nil
		}
		var got []int
		for v, err := range greenpool.Starmap(p, mul, in) {
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		if want := []int{6, 20, 1, 14, 9}; !slices.Equal(got, want) {
			t.Errorf("Starmap: %v, want %v", got, want)
		}
		return nil
	}, hubtest.Virtual())
}

// Breaking out of an Imap loop stops the input, kills the tasks whose
// results will not be read and leaves the pool empty before the loop goes
// on.
func TestImapAbandoned(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		n     int // inputs
		take  int // results consumed before break
		delay int // ms per task
	}{
		{name: "break at first", size: 3, n: 10, take: 1, delay: 5},
		{name: "break midway", size: 3, n: 10, take: 4, delay: 5},
		{name: "break on last", size: 2, n: 4, take: 4, delay: 1},
		{name: "one slot", size: 1, n: 5, take: 2, delay: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				p := greenpool.New(h, tc.size)
				inputClosed := false
				inputsGiven := 0
				in := func(yield func(int) bool) {
					defer func() { inputClosed = true }()
					for i := range tc.n {
						inputsGiven++
						if !yield(i) {
							return
						}
					}
				}
				started, ended := 0, 0
				f := func(i int) (int, error) {
					started++
					defer func() { ended++ }()
					greenthread.Sleep(h, time.Duration(tc.delay*(tc.n-i))*time.Millisecond)
					return i, nil
				}
				taken := 0
				for v, err := range greenpool.Imap(p, f, in) {
					if v != taken || err != nil {
						t.Errorf("result %d: %d, %v", taken, v, err)
					}
					taken++
					if taken == tc.take {
						break
					}
				}
				if !inputClosed {
					t.Error("the input sequence was not stopped")
				}
				if started != ended {
					t.Errorf("%d tasks started, %d ended: some still run after the loop", started, ended)
				}
				if p.Running() != 0 || p.Waiting() != 0 {
					t.Errorf("after break: Running %d Waiting %d, want 0 0", p.Running(), p.Waiting())
				}
				if inputsGiven > tc.n {
					t.Errorf("input produced %d values", inputsGiven)
				}
				// The pool is whole again.
				th, err := greenpool.Spawn(p, func() (int, error) { return 7, nil })
				if err != nil {
					return err
				}
				if v, err := th.Wait(); v != 7 || err != nil {
					t.Errorf("spawn after break: %d, %v", v, err)
				}
				return nil
			}, hubtest.Virtual())
		})
	}
}

// A task of a full pool ranging over Imap on that pool does not deadlock:
// its tasks run on its slot.
func TestImapFromMemberOfFullPool(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 1)
		th, err := greenpool.Spawn(p, func() ([]int, error) {
			var out []int
			for v, err := range greenpool.Imap(p, func(i int) (int, error) {
				greenthread.Sleep(h, time.Millisecond)
				return -i, nil
			}, slices.Values([]int{1, 2, 3})) {
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			return out, nil
		})
		if err != nil {
			return err
		}
		if v, err := th.Wait(); !slices.Equal(v, []int{-1, -2, -3}) || err != nil {
			t.Errorf("Imap from a member: %v, %v", v, err)
		}
		return nil
	}, hubtest.Virtual())
}

// An interruption of the consumer's wait ends the iteration with its error
// and cleans up as a break does.
func TestImapInterrupted(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 2)
		consumer := greenthread.Spawn(h, func() ([]pair, error) {
			slow := func(i int) (int, error) {
				greenthread.Sleep(h, time.Hour)
				return i, nil
			}
			return collect(greenpool.Imap(p, slow, slices.Values([]int{1, 2, 3}))), nil
		})
		greenthread.Sleep(h, time.Second)
		h.Raw().Interrupt(consumer.G(), errInterrupt)
		got, err := consumer.Wait()
		if err != nil || len(got) != 1 || got[0].err != errInterrupt {
			t.Errorf("interrupted Imap: %v, %v; want one pair with the interruption", got, err)
		}
		if p.Running() != 0 || p.Waiting() != 0 {
			t.Errorf("after interruption: Running %d Waiting %d", p.Running(), p.Waiting())
		}
		if h.Now() >= time.Hour {
			t.Errorf("the slow tasks were waited for (now %v)", h.Now())
		}
		return nil
	}, hubtest.Virtual())
}

// A consumer killed in the middle of an Imap takes its tasks down with it.
func TestImapConsumerKilled(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 2)
		ended := 0
		consumer := greenthread.Spawn(h, func() (int, error) {
			n := 0
			for range greenpool.Imap(p, func(i int) (int, error) {
				defer func() { ended++ }()
				greenthread.Sleep(h, time.Duration(i)*time.Second)
				return i, nil
			}, slices.Values([]int{1, 5, 5, 5})) {
				n++
			}
			return n, nil
		})
		greenthread.Sleep(h, 2*time.Second) // the first result is in, the rest sleep
		if err := consumer.Kill(); err != nil {
			return err
		}
		if _, err := consumer.Wait(); !errors.Is(err, hub.ErrKilled) {
			t.Errorf("consumer: %v, want ErrKilled", err)
		}
		if p.Running() != 0 || ended != 3 {
			t.Errorf("after kill: Running %d, %d tasks ended; want 0 and 3", p.Running(), ended)
		}
		return nil
	}, hubtest.Virtual())
}

func TestPileOrder(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		delays []int
	}{
		{name: "empty", size: 2},
		{name: "reverse", size: 10, delays: []int{5, 4, 3, 2, 1}},
		{name: "bounded", size: 2, delays: []int{3, 1, 2, 5, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				p := greenpool.New(h, tc.size)
				pile := greenpool.NewPile[int](p)
				for i, d := range tc.delays {
					if err := pile.Spawn(func() (int, error) {
						greenthread.Sleep(h, time.Duration(d)*time.Millisecond)
						return i, nil
					}); err != nil {
						return err
					}
				}
				if pile.Len() != len(tc.delays) {
					t.Errorf("Len() = %d, want %d", pile.Len(), len(tc.delays))
				}
				var got []int
				for v, err := range pile.All() {
					if err != nil {
						return err
					}
					got = append(got, v)
				}
				for i, v := range got {
					if v != i {
						t.Errorf("results %v, want spawn order", got)
						break
					}
				}
				if len(got) != len(tc.delays) || pile.Len() != 0 {
					t.Errorf("%d results, Len %d after", len(got), pile.Len())
				}
				return nil
			}, hubtest.Virtual())
		})
	}
}

// Results consumed leave the pile; a loop that breaks can be continued,
// and spawning can go on between iterations.
func TestPileBreakAndContinue(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 3)
		pile := greenpool.NewPile[int](p)
		spawn := func(i int) {
			if err := pile.Spawn(func() (int, error) { return i, nil }); err != nil {
				t.Error(err)
			}
		}
		for i := range 4 {
			spawn(i)
		}
		var got []int
		for v := range pile.All() {
			got = append(got, v)
			if v == 1 {
				break
			}
		}
		spawn(4)
		for v := range pile.All() {
			got = append(got, v)
		}
		if want := []int{0, 1, 2, 3, 4}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	}, hubtest.Virtual())
}

func TestPileKilledTask(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 2)
		pile := greenpool.NewPile[int](p)
		pile.Spawn(func() (int, error) { greenthread.Sleep(h, time.Hour); return 1, nil })
		pile.Spawn(func() (int, error) { return 2, nil })
		settle(h)
		p.Kill()
		got := collect(pile.All())
		if len(got) != 2 || !errors.Is(got[0].err, hub.ErrKilled) || got[1] != (pair{2, nil}) {
			t.Errorf("got %v, want a killed first result and 2", got)
		}
		return nil
	}, hubtest.Virtual())
}

// A long pile consumed in pieces keeps its order (and compacts its queue).
func TestPileLong(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 10)
		pile := greenpool.NewPile[int](p)
		next := 0
		spawn := func(n int) {
			for range n {
				i := next
				next++
				if err := pile.Spawn(func() (int, error) {
					greenthread.Sleep(h, time.Duration(i%7)*time.Millisecond)
					return i, nil
				}); err != nil {
					t.Error(err)
				}
			}
		}
		var got []int
		spawn(200)
		for v := range pile.All() {
			got = append(got, v)
			if len(got) == 150 {
				break
			}
		}
		spawn(50)
		for v := range pile.All() {
			got = append(got, v)
		}
		for i, v := range got {
			if v != i {
				t.Errorf("result %d is %d", i, v)
				break
			}
		}
		if len(got) != 250 {
			t.Errorf("%d results, want 250", len(got))
		}
		return nil
	}, hubtest.Virtual())
}

// Imap used to range over its whole input at once: with a pool of 4 and
// 1,000 inputs, a reader that stopped after 5 results had made all 1,000
// tasks start. The input is now consumed lazily, so at most the pool's
// size runs and a window of the pool's size waits to be read; and breaking
// leaves no green thread of the iteration behind.
func TestRegressionImapBounded(t *testing.T) {
	const size, window, inputs, read = 4, 4, 1000, 5
	tests := []struct {
		name string
		task func(h *hub.Hub, i int) error
	}{
		{name: "instant tasks", task: func(*hub.Hub, int) error { return nil }},
		{name: "sleeping tasks", task: func(h *hub.Hub, i int) error {
			return greenthread.Sleep(h, time.Duration(i%7)*time.Millisecond)
		}},
		{name: "slow head", task: func(h *hub.Hub, i int) error {
			if i == 0 {
				return greenthread.Sleep(h, time.Second) // the others finish and pile up
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				p := greenpool.New(h, size)
				pulled, started, ended := 0, 0, 0
				in := func(yield func(int) bool) {
					for i := range inputs {
						pulled++
						if !yield(i) {
							return
						}
					}
				}
				f := func(i int) (int, error) {
					started++
					defer func() { ended++ }()
					return i, tc.task(h, i)
				}
				got := 0
				for v, err := range greenpool.Imap(p, f, in) {
					if v != got || err != nil {
						t.Errorf("result %d: %d, %v", got, v, err)
					}
					got++
					if got == read {
						break
					}
				}
				if started > size+window+read || pulled > size+window+read {
					t.Errorf("%d inputs pulled, %d tasks started for %d results read; want at most %d", pulled, started, read, size+window+read)
				}
				if started != ended {
					t.Errorf("%d tasks started, %d ended: some outlive the loop", started, ended)
				}
				if n := h.Stats().Live; n != 1 {
					t.Errorf("%d green threads alive after the loop, want 1 (main)", n)
				}
				if p.Running() != 0 || p.Waiting() != 0 {
					t.Errorf("after break: Running %d Waiting %d", p.Running(), p.Waiting())
				}
				return nil
			}, hubtest.Virtual())
		})
	}
}

// Starmap is bounded the same way.
func TestImapBoundedStarmap(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		p := greenpool.New(h, 2)
		pulled := 0
		in := func(yield func(int, int) bool) {
			for i := range 1000 {
				pulled++
				if !yield(i, i) {
					return
				}
			}
		}
		n := 0
		mul := func(a, b int) (int, error) {
			if a == 0 {
				greenthread.Sleep(h, time.Second) // the others finish and pile up
			}
			return a * b, nil
		}
		for _, err := range greenpool.Starmap(p, mul, in) {
			if err != nil {
				return err
			}
			if n++; n == 3 {
				break
			}
		}
		if pulled > 2+2+3 {
			t.Errorf("%d inputs pulled for 3 results, want at most 7", pulled)
		}
		return nil
	}, hubtest.Virtual())
}
