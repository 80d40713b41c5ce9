package netio

import (
	"bytes"
	"io"
	"testing"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
)

// TryWrite takes what the kernel takes and never parks: against a peer that
// does not read it comes back short with no error, and what it wrote
// arrives intact once the peer reads.
func TestTryWrite(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		l, err := Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		client, err := Dial(h, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer client.Close()
		server, err := l.AcceptConn()
		if err != nil {
			return err
		}
		defer server.Close()

		big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB: more than the socket buffers hold
		parksBefore := h.Stats().Resumes
		n, err := client.TryWrite(big)
		switch {
		case err != nil:
			t.Fatalf("TryWrite: %v", err)
		case n == 0 || n >= len(big):
			t.Fatalf("TryWrite wrote %d of %d bytes; want a partial write", n, len(big))
		case h.Stats().Resumes != parksBefore:
			t.Fatalf("TryWrite parked the green thread")
		}
		if m, err := client.TryWrite(big[n:]); err != nil || m != 0 {
			t.Fatalf("TryWrite on a full buffer = %d, %v; want 0, nil", m, err)
		}
		client.CloseWrite()
		got, err := io.ReadAll(server)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, big[:n]) {
			t.Fatalf("peer read %d bytes that differ from the %d written", len(got), n)
		}
		return nil
	})
}
