package hub

// The caller check: which G, if any, the calling goroutine is on this hub.
// It compares the goroutine's identity (getg, one instruction) with the
// running G's; no system call, no allocation.

// caller returns the G the calling goroutine is on this hub: the running
// green thread, or h.loop for hub callbacks. Any other goroutine gets an
// error and the hub is not touched.
func (h *Hub) caller() (*G, error) {
	gp := getg()
	if cur := h.current.Load(); cur != nil && cur.goroutine == gp {
		if h.inCallback {
			return h.loop, nil // a callback run inline on cur's stack
		}
		return cur, nil
	}
	if gp == h.loopGoroutine.Load() && gp != 0 {
		return h.loop, nil
	}
	switch h.state.Load() {
	case stateNew:
		return nil, ErrNotStarted
	case stateStopped:
		return nil, ErrStopped
	}
	return nil, ErrOutside
}

// green returns the running green thread, or an error if the caller is a
// hub callback or not on the hub's thread at all.
func (h *Hub) green() (*G, error) {
	g, err := h.caller()
	if err == nil && (g == h.loop || h.inCallback) {
		return nil, ErrNotGreen
	}
	return g, err
}

// mustCaller is caller for methods that return no error: misuse is a
// programming error and panics.
func (h *Hub) mustCaller() *G {
	g, err := h.caller()
	if err != nil {
		panic(err)
	}
	return g
}

// onLoop checks that the caller is the goroutine that began the run, and
// not a hub callback on it: only it may Step and Close.
func (h *Hub) onLoop() error {
	if lg := h.loopGoroutine.Load(); lg != 0 && getg() == lg {
		if h.inCallback {
			return ErrRunning
		}
		return nil
	}
	switch h.state.Load() {
	case stateNew:
		return ErrNotStarted
	case stateStopped:
		return ErrStopped
	}
	return ErrOutside
}
