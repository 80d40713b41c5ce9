package timeline_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"github.com/greenhub/greenhub/timeline"
)

// randomProgram runs green threads that yield, sleep, spawn others, wait
// for one another and fail, as rng says; each seed is another program.
func randomProgram(rng *rand.Rand) func(h *hub.Hub) error {
	return func(h *hub.Hub) error {
		raw := h.Raw()
		budget := 40 // green threads left to spawn
		var waiting []*hub.G
		var body func(depth int) func() error
		body = func(depth int) func() error {
			return func() error {
				for range rng.IntN(12) {
					var err error
					switch op := rng.IntN(6); {
					case op == 0:
						err = raw.Yield()
					case op == 1:
						err = raw.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
					case op == 2 && budget > 0 && depth < 4:
						budget--
						_, err = raw.Spawn(body(depth+1), func(*hub.G) {})
					case op == 3 && len(waiting) > 0: // wake one that waits
						g := waiting[0]
						waiting = waiting[1:]
						raw.Ready(g, nil)
					case op == 4 && depth > 0: // wait to be woken, or time out
						g := raw.Current()
						waiting = append(waiting, g)
						t := raw.AfterFunc(5*time.Millisecond, func() { raw.Ready(g, nil) })
						err = raw.Park(hub.Block("queue"))
						raw.CancelTimer(t)
						for i, w := range waiting {
							if w == g {
								waiting = append(waiting[:i], waiting[i+1:]...)
								break
							}
						}
					case op == 5 && depth > 0:
						return errors.New("failed on purpose")
					}
					if err != nil {
						return err
					}
				}
				return nil
			}
		}
		for range 3 + rng.IntN(4) {
			budget--
			if _, err := raw.Spawn(body(1), func(*hub.G) {}); err != nil {
				return err
			}
		}
		return body(0)()
	}
}

// Whatever the program, the trace is valid (checkTrace: no overlapping
// spans, every block followed by a wake or exit, arrows whole), every G
// spawned exits, and every G that ran has a span.
func TestChromeRandomPrograms(t *testing.T) {
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 13))
			events := parseTrace(t, traceHub(t, randomProgram(rng), hubtest.Virtual(),
				hub.WaitForAll(), hub.WithPanicHandler(func(*hub.G, error) {})))
			count := map[string]int{}
			ran := map[uint64]bool{}
			for _, e := range events {
				count[e.Ph+" "+e.Name]++
				if e.Ph == "X" && e.Cat == "run" {
					ran[e.Tid] = true
				}
			}
			if count["i spawn"] == 0 || count["i spawn"] != count["i exit"] {
				t.Errorf("%d spawns, %d exits", count["i spawn"], count["i exit"])
			}
			if testing.Verbose() && seed == 0 {
				t.Logf("event counts: %v", count)
			}
			if len(ran) != count["i spawn"] {
				t.Errorf("%d G's ran, %d spawned", len(ran), count["i spawn"])
			}
		})
	}
}

// Any name and reason, however malformed, makes a trace that parses back
// to the same text (invalid UTF-8 as U+FFFD, as encoding/json has it).
func FuzzChromeText(f *testing.F) {
	f.Add("worker", "queue")
	f.Add(`"quoted"`, "read\n\x00")
	f.Add("\xff\xfe", "\u2028")
	f.Fuzz(func(t *testing.T, name, reason string) {
		var buf bytes.Buffer
		c := timeline.NewChrome(&buf)
		h := hub.New(hub.WithTracer(c), hubtest.Virtual(), hub.WithPanicHandler(func(*hub.G, error) {}))
		err := h.Run(func() error {
			raw := h.Raw()
			g, err := raw.Spawn(func() error {
				raw.Current().SetName(name)
				if err := raw.Park(hub.Block(reason)); err != nil {
					return err
				}
				return errors.New(reason)
			}, nil)
			if err != nil {
				return err
			}
			raw.AfterFunc(time.Millisecond, func() { raw.Ready(g, nil) })
			return raw.Sleep(2 * time.Millisecond)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		events := parseTrace(t, buf.Bytes())
		want := func(s string) string {
			b, _ := json.Marshal(s)
			var back string
			json.Unmarshal(b, &back)
			return back
		}
		var gotName, gotErr, gotReason string
		for _, e := range events {
			if e.Tid == 2 && e.Ph == "i" && e.Name == "block" {
				gotReason, _ = e.Args["reason"].(string)
			}
			if e.Tid == 2 && e.Ph == "M" && e.Name == "thread_name" {
				gotName = e.Args["name"].(string)
			}
			if e.Tid == 2 && e.Ph == "i" && e.Name == "exit" {
				gotErr, _ = e.Args["error"].(string)
			}
		}
		if wantName := want(name); name != "" && gotName != wantName {
			t.Errorf("track name %q, want %q", gotName, wantName)
		}
		if wantReason := want(reason); gotReason != wantReason {
			t.Errorf("block reason %q, want %q", gotReason, wantReason)
		}
		if wantErr := want(reason); gotErr != wantErr {
			t.Errorf("exit error %q, want %q", gotErr, wantErr)
		}
	})
}
