package hub

import (
	"slices"
	"sync"
	"sync/atomic"
)

// The hubs running in this process, for CallerHub: registered by Begin,
// removed by Close. Readers take the slice without a lock; writers replace
// it.
var (
	runningMu sync.Mutex
	running   atomic.Pointer[[]*Hub]
)

func registerRunning(h *Hub) {
	runningMu.Lock()
	defer runningMu.Unlock()
	var hubs []*Hub
	if p := running.Load(); p != nil {
		hubs = slices.Clone(*p)
	}
	hubs = append(hubs, h)
	running.Store(&hubs)
}

func unregisterRunning(h *Hub) {
	runningMu.Lock()
	defer runningMu.Unlock()
	if p := running.Load(); p != nil {
		hubs := slices.DeleteFunc(slices.Clone(*p), func(x *Hub) bool { return x == h })
		running.Store(&hubs)
	}
}

// CallerHub returns the hub whose thread the calling goroutine is on — one
// of its green threads or callbacks — or nil for any other goroutine. Code
// that may be called from anywhere uses it to choose how to reach a hub: a
// plain goroutine blocks on a bridge (greensync.Call), a green thread of
// another hub must park instead (greensync.CallHub), since blocking its OS
// thread would stop every green thread of its hub. It costs a caller check
// per running hub of the process; any goroutine may call it.
func CallerHub() *Hub {
	p := running.Load()
	if p == nil {
		return nil
	}
	for _, h := range *p {
		if _, err := h.caller(); err == nil {
			return h
		}
	}
	return nil
}
