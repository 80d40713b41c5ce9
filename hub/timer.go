package hub

import "time"

// Now returns the time on the hub's clock: how long the hub's clock has
// run, the unit of every hub deadline. Any goroutine may call it.
func (h *Hub) Now() time.Duration { return h.clock.Now() }
