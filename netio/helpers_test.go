package netio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"

	"github.com/greenhub/greenhub/hub"
)

// echoHandler echoes until EOF through a 64 KiB buffer, as examples/echo.
func echoHandler(c *Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// startEcho listens on network/address and serves echoHandler from a
// green thread; stop with srv.Stop.
func startEcho(h *hub.Hub, network, address string) (*Listener, *Server, error) {
	l, err := Listen(h, network, address)
	if err != nil {
		return nil, nil, err
	}
	srv := &Server{Handler: echoHandler}
	if _, err := h.Raw().Spawn(func() error { return srv.Serve(l) }, nil); err != nil {
		return nil, nil, err
	}
	return l, srv, nil
}

// roundTrip writes msg and reads it back, checking every byte.
func roundTrip(c net.Conn, msg, buf []byte) error {
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := io.ReadFull(c, buf[:len(msg)]); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !bytes.Equal(buf[:len(msg)], msg) {
		return errors.New("echo differs from what was sent")
	}
	return nil
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// spawnAll runs fns in green threads and waits for all; it returns the
// first error.
func spawnAll(h *hub.Hub, fns ...func() error) error {
	errs := make([]error, len(fns))
	left := len(fns)
	main := h.Raw().Current()
	for i, fn := range fns {
		if _, err := h.Raw().Spawn(func() error {
			defer func() {
				left--
				if left == 0 {
					h.Raw().Ready(main, nil)
				}
			}()
			errs[i] = fn()
			return nil
		}, nil); err != nil {
			return err
		}
	}
	for left > 0 {
		if err := h.Raw().Park(hub.Block("spawnAll")); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// syncBuffer is a bytes.Buffer safe for concurrent use (log output).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// emfileChildEnv makes the test binary run emfileChild instead of the
// tests (see TestEMFILE).
const emfileChildEnv = "NETIO_EMFILE_CHILD"
