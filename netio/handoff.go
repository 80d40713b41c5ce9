package netio

import (
	"github.com/greenhub/greenhub/hub"
)

// AcceptTo accepts the next connection on l and hands it to another hub,
// target: through target's door the connection becomes a Conn of target
// (registered with target's poller, on target's thread) and serve runs in a
// new green thread of target; the Conn is closed when serve returns. It is
// the other way to spread connections over a hub.Group than a listener per
// hub with ListenConfig.ReusePort: one accepting hub deals connections out in
// turn (target = group.Next()), evenly whatever the kernel's hashing would
// do, at the price of a door crossing per connection.
//
// AcceptTo returns once the connection is on its way, with an error only if
// the accept failed (as AcceptConn's) or target has stopped (the connection
// is then closed). Errors target meets later — no descriptor slot in its
// poller, a green thread it cannot spawn — close the connection and are
// logged through target's logger. target == l's hub serves it directly.
//
// The caller must be a green thread of l's hub.
func (l *Listener) AcceptTo(target *hub.Hub, serve func(*Conn)) error {
	nfd, sa, err := l.acceptFD()
	if err != nil {
		return err
	}
	adopt := func() {
		c, err := l.newConn(target, nfd, sa)
		if err != nil { // newConn closed nfd
			target.Raw().Logger().Warn("netio: handed-over connection dropped", "err", err)
			return
		}
		_, err = target.Raw().Spawn(func() error {
			defer c.Close()
			serve(c)
			return nil
		}, nil)
		if err != nil {
			c.Close()
		}
	}
	if target == l.fd.h {
		adopt()
		return nil
	}
	if err := target.Submit(adopt); err != nil {
		sysClose(nfd)
		return l.fd.opErr("accept", err)
	}
	return nil
}
