package greensync

import (
	"fmt"

	"github.com/greenhub/greenhub/hub"
)

// caller returns the green thread making the call, nil for a hub callback
// (which may call what does not block), or an error naming op if the
// caller is not on h's thread at all.
func caller(h *hub.Hub, op string) (*hub.G, error) {
	r := h.Raw()
	g, err := r.Caller()
	if err != nil {
		return nil, wrapOp(op, err)
	}
	if g == r.Loop() {
		return nil, nil
	}
	return g, nil
}

// green returns the calling green thread, or an error naming op for a
// blocking call made from anywhere else.
func green(h *hub.Hub, op string) (*hub.G, error) {
	g, err := h.Raw().Green()
	if err != nil {
		return nil, wrapOp(op, err)
	}
	return g, nil
}

// onHub checks that the caller is on h's thread (a green thread or a hub
// callback).
func onHub(h *hub.Hub, op string) error {
	if _, err := h.Raw().Caller(); err != nil {
		return wrapOp(op, err)
	}
	return nil
}

func wrapOp(op string, err error) error {
	return fmt.Errorf("greensync: %s: %w", op, err)
}
