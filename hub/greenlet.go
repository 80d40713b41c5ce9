package hub

// Greenlets: G's that run only when switched to, handing values both ways,
// with parents that receive their result (greenlet's switch, throw and
// parent chain). Green threads are greenlets whose parent is the hub loop.

// newGreenlet creates a greenlet: a G that runs fn when it is first
// switched to, with the switch's value as arg, and whose result goes to its
// parent when it ends (greenlet.greenlet(run, parent)). A nil parent means
// the caller.
func (h *Hub) newGreenlet(fn func(arg any) (any, error), parent *G, onExit func(*G)) (*G, error) {
	cur, err := h.caller()
	if err != nil {
		return nil, err
	}
	if h.stopping {
		return nil, ErrStopped
	}
	if parent == nil {
		parent = cur
	}
	if parent.h != h {
		return nil, ErrOtherHub
	}
	g := h.newG(parent)
	g.greenFn, g.onExit = fn, onExit
	if h.tracer != nil {
		h.tracer.Spawn(g)
	}
	return g, nil
}

// start queues g, a greenlet made by NewGreenlet that has not started, to
// be run by the hub like a spawned green thread: SpawnAfter creates its
// green thread at once and starts it when its timer fires. g's parent
// becomes the hub loop.
func (h *Hub) start(g *G) error {
	if _, err := h.caller(); err != nil {
		return err
	}
	switch {
	case g.h != h:
		return ErrOtherHub
	case h.stopping:
		return ErrStopped
	case g.state != gNew:
		return ErrNotSwitchable
	}
	g.parent = h.loop
	g.state = gReady
	h.runq.push(g)
	return nil
}

// throw switches to target as Switch does, making target's Switch return
// err instead of a value (greenlet's throw). Throwing into a greenlet that
// has not started kills it: it never runs, and Throw returns as its parent
// would. A nil err is ErrKilled.
func (h *Hub) throw(target *G, err error) (any, error) {
	if _, cerr := h.green(); cerr != nil {
		return nil, cerr
	}
	if err == nil {
		err = ErrKilled
	}
	if target.h == h && target.state == gNew {
		target.err = err
		h.kill(target)
		if err == ErrKilled {
			return nil, nil
		}
		return nil, err
	}
	return h.switchTo(target, nil, err)
}

// switchTo is the greenlet-level switch: it suspends the calling green
// thread and resumes target, handing it v (or err, which target's switch returns). A
// dead target passes the switch to its first live ancestor, as greenlet
// does; switching to oneself returns v at once. The switch is a switch
// point: a pending kill or interrupt is delivered before and after it, and
// an Interrupt while cur waits in it ends the wait.
func (h *Hub) switchTo(target *G, v any, err error) (any, error) {
	cur, cerr := h.green()
	if cerr != nil {
		return nil, cerr
	}
	if target.h != h {
		return nil, ErrOtherHub
	}
	for target.state == gDead && target.parent != nil && target != cur {
		target = target.parent
	}
	switch {
	case target == cur:
		return v, err
	case target == h.loop, target.state == gDead:
		return nil, ErrNotSwitchable
	case target.state == gNew:
	case target.state == gParked && target.reason == reasonSwitch:
	default:
		return nil, ErrNotSwitchable
	}
	if perr := cur.pendingKillOrInterrupt(); perr != nil {
		return nil, perr
	}
	target.value, target.wakeErr = v, err
	target.state = gRunning
	cur.state = gParked
	cur.reason = reasonSwitch
	cur.parkSeq++
	if h.tracer != nil {
		h.tracer.Switch(cur, target)
	}
	// transfer(cur, target), its first step written out: every frame
	// between the caller and the coroutine switch costs a mispredicted
	// return when cur resumes, and this is greenlet's hot path.
	h.transferTo = target
	if target.onChain {
		cur.onChain = false
		cur.c.yield(struct{}{})
	} else {
		target.onChain = true
		if target.c == nil {
			h.attach(target)
		}
		target.c.next()
	}
	if h.transferTo != cur {
		h.transfer(cur, h.transferTo) // the chain unwound past cur: go on
	} else {
		h.arrive(cur)
	}
	cur.reason = Reason{}
	v, err = cur.value, cur.wakeErr
	cur.value, cur.wakeErr = nil, nil
	if cur.takeKill() {
		raiseKill()
	}
	return v, err
}
