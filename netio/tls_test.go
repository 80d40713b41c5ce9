package netio

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenhub/greenhub/greensync"
	"github.com/greenhub/greenhub/greenthread"
	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/internal/hubtest"
	"golang.org/x/net/nettest"
)

// testTLSCert is a self-signed ECDSA P-256 certificate for greenhub.test
// and 127.0.0.1, made once per test binary, with the pool that trusts it.
var testTLSCert = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "greenhub.test"},
		DNSNames:              []string{"greenhub.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
})

// tlsConfigs returns a server config with the test certificate and a
// client config that trusts it.
func tlsConfigs() (server, client *tls.Config) {
	cert, pool := testTLSCert()
	return &tls.Config{Certificates: []tls.Certificate{cert}},
		&tls.Config{RootCAs: pool, ServerName: "greenhub.test"}
}

// tlsPair returns a client and a server TLSConn over TCP loopback; nil
// configs are tlsConfigs'. With handshake, both handshakes have run.
func tlsPair(h *hub.Hub, server, client *tls.Config, handshake bool) (c, s *TLSConn, err error) {
	ds, dc := tlsConfigs()
	if server == nil {
		server = ds
	}
	if client == nil {
		client = dc
	}
	cc, sc, err := pair(h)
	if err != nil {
		return nil, nil, err
	}
	c, s = TLSClient(cc, client), TLSServer(sc, server)
	if handshake {
		if err := spawnAll(h, c.Handshake, s.Handshake); err != nil {
			c.Close()
			s.Close()
			return nil, nil, fmt.Errorf("handshake: %w", err)
		}
	}
	return c, s, nil
}

// Where green threads are parked, for the tests to wait on (no sleeps).
func parkedReading(t *TLSConn) bool { r, _ := t.c.fd.pfd.Waiters(); return r != nil }
func parkedWriting(t *TLSConn) bool { _, w := t.c.fd.pfd.Waiters(); return w != nil }

func waitFor(h *hub.Hub, what string, cond func() bool) error {
	if err := hubtest.YieldUntil(h, 1_000_000, cond); err != nil {
		return fmt.Errorf("waiting until %s: %w", what, err)
	}
	return nil
}

// smallBuffers bounds the kernel's buffers between w and r, so that a
// writer parks after a MiB or so whatever the autotuning. (Much smaller
// than loopback's 64 KiB segments would slow TCP to a crawl.)
func smallBuffers(w, r *TLSConn) error {
	if err := w.c.SetWriteBuffer(256 << 10); err != nil {
		return err
	}
	return r.c.SetReadBuffer(256 << 10)
}

// roundTripTLS sends msg from a to b and back.
func roundTripTLS(a, b net.Conn, msg string) error {
	buf := make([]byte, len(msg))
	if _, err := a.Write([]byte(msg)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := io.ReadFull(b, buf); err != nil || string(buf) != msg {
		return fmt.Errorf("read %q, %v", buf, err)
	}
	if _, err := b.Write(buf); err != nil {
		return fmt.Errorf("write back: %w", err)
	}
	if _, err := io.ReadFull(a, buf); err != nil || string(buf) != msg {
		return fmt.Errorf("read back %q, %v", buf, err)
	}
	return nil
}

// TestTLSReaderParkedMidHandshakeWriter is the hang a tls.Conn over a Conn
// has: a green thread reads a fresh connection, so it runs the handshake
// and parks inside crypto/tls (holding its handshake and input locks)
// because the peer is slow; a second green thread writes meanwhile, which
// with a plain tls.Conn would block the hub's OS thread in the handshake
// lock for good. (That variant is not run: it would hang the test binary.)
// With TLSConn the writer waits for the handshake on a green lock; the peer
// completes, both finish, and the data arrives both ways.
func TestTLSReaderParkedMidHandshakeWriter(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		client, server, err := tlsPair(h, nil, nil, false)
		if err != nil {
			return err
		}
		defer client.Close()
		defer server.Close()
		reader := greenthread.Spawn(h, func() (string, error) {
			buf := make([]byte, 5)
			_, err := io.ReadFull(client, buf)
			return string(buf), err
		})
		if err := waitFor(h, "the reader parks in the handshake", func() bool { return parkedReading(client) }); err != nil {
			return err
		}
		if client.done.Load() {
			return errors.New("the handshake completed without the peer")
		}
		// Must not wait for tls's handshake lock, which the parked handshake holds.
		if st := client.ConnectionState(); st.HandshakeComplete || st.Version != 0 {
			return fmt.Errorf("ConnectionState mid-handshake: %+v", st)
		}
		writer := greenthread.Spawn(h, func() (int, error) { return client.Write([]byte("ping!")) })
		if err := waitFor(h, "the writer waits for the handshake", func() bool { return client.rmu.Waiting() == 1 }); err != nil {
			return err
		}
		// The slow peer now answers.
		peer := greenthread.Spawn(h, func() (string, error) {
			buf := make([]byte, 5)
			if _, err := io.ReadFull(server, buf); err != nil {
				return "", err
			}
			_, err := server.Write([]byte("pong!"))
			return string(buf), err
		})
		if n, err := writer.Wait(); n != 5 || err != nil {
			return fmt.Errorf("writer: %d, %v", n, err)
		}
		if got, err := peer.Wait(); got != "ping!" || err != nil {
			return fmt.Errorf("peer read %q, %v", got, err)
		}
		if got, err := reader.Wait(); got != "pong!" || err != nil {
			return fmt.Errorf("reader read %q, %v", got, err)
		}
		if st := client.ConnectionState(); !st.HandshakeComplete || st.Version != tls.VersionTLS13 {
			return fmt.Errorf("ConnectionState after the handshake: complete %v, version %x", st.HandshakeComplete, st.Version)
		}
		return nil
	})
}

// TestTLSCloseWakesEveryone: readers and writers parked (in the handshake,
// in Read, in Write's flush, or queued on the green locks) and Close from a
// third green thread: everyone wakes with net.ErrClosed, Close never
// waits, and the hub goes on serving.
func TestTLSCloseWakesEveryone(t *testing.T) {
	for _, tc := range []struct {
		name      string
		handshake bool // done before the readers and writers come
		writer    bool // a writer parked in its flush (the peer does not read)
	}{
		{name: "mid-handshake"},
		{name: "reading, writer parked", handshake: true, writer: true},
		{name: "reading, no writer", handshake: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				srvCfg, _ := tlsConfigs()
				srvCfg.SessionTicketsDisabled = true // nothing left unread by the client
				client, server, err := tlsPair(h, srvCfg, nil, tc.handshake)
				if err != nil {
					return err
				}
				defer server.Close()
				if err := smallBuffers(client, server); err != nil {
					return err
				}
				var threads []*greenthread.Thread[int]
				read := func() (int, error) { return client.Read(make([]byte, 100)) }
				threads = append(threads, greenthread.Spawn(h, read))
				if err := waitFor(h, "the first reader parks", func() bool { return parkedReading(client) }); err != nil {
					return err
				}
				threads = append(threads, greenthread.Spawn(h, read))
				if err := waitFor(h, "the second reader queues", func() bool { return client.rmu.Waiting() == 1 }); err != nil {
					return err
				}
				if tc.writer || !tc.handshake {
					threads = append(threads, greenthread.Spawn(h, func() (int, error) {
						return client.Write(make([]byte, 16<<20))
					}))
					cond := func() bool { return client.rmu.Waiting() == 2 }
					if tc.handshake {
						cond = func() bool { return parkedWriting(client) }
					}
					if err := waitFor(h, "the writer parks", cond); err != nil {
						return err
					}
				}
				closer := greenthread.Spawn(h, func() (struct{}, error) { return struct{}{}, client.Close() })
				if _, err := closer.Wait(); err != nil {
					return fmt.Errorf("Close: %v", err)
				}
				for i, th := range threads {
					if _, err := th.Wait(); !errors.Is(err, net.ErrClosed) {
						return fmt.Errorf("green thread %d woke with %v, want net.ErrClosed", i, err)
					}
				}
				if err := client.Close(); !errors.Is(err, net.ErrClosed) {
					return fmt.Errorf("second Close: %v", err)
				}
				if _, err := client.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
					return fmt.Errorf("Write after Close: %v", err)
				}
				if tc.handshake && !tc.writer {
					// Close sent close_notify: the peer reads a clean EOF.
					if _, err := server.Read(make([]byte, 10)); err != io.EOF {
						return fmt.Errorf("peer read %v, want io.EOF (close_notify)", err)
					}
				}
				// The hub goes on.
				c2, s2, err := tlsPair(h, nil, nil, true)
				if err != nil {
					return err
				}
				defer c2.Close()
				defer s2.Close()
				return roundTripTLS(c2, s2, "still serving")
			})
		})
	}
}

// TestTLSFullDuplex16MiB: each side writes 16 MiB in one Write while
// another green thread of the same side reads the 16 MiB coming the other
// way; everything arrives intact (SHA-256), and the ciphertext buffered in
// either TLSConn never grows past a few Write pieces.
func TestTLSFullDuplex16MiB(t *testing.T) {
	const size = 16 << 20
	hubtest.Main(t, func(h *hub.Hub) error {
		client, server, err := tlsPair(h, nil, nil, true)
		if err != nil {
			return err
		}
		defer client.Close()
		defer server.Close()
		payload := func(seed byte) []byte {
			b := make([]byte, size)
			mrand.NewChaCha8([32]byte{seed}).Read(b)
			return b
		}
		up, down := payload(1), payload(2)
		maxBuf := 0
		send := func(c *TLSConn, data []byte) func() error {
			return func() error {
				if n, err := c.Write(data); n != len(data) || err != nil {
					return fmt.Errorf("write: %d, %v", n, err)
				}
				return c.CloseWrite()
			}
		}
		receive := func(c *TLSConn, want []byte) func() error {
			return func() error {
				sum := sha256.New()
				buf := make([]byte, 32<<10)
				total := 0
				for {
					maxBuf = max(maxBuf, cap(client.tr.out), cap(server.tr.out))
					n, err := c.Read(buf)
					sum.Write(buf[:n])
					total += n
					if err == io.EOF {
						break
					}
					if err != nil {
						return fmt.Errorf("read after %d bytes: %w", total, err)
					}
				}
				if w := sha256.Sum256(want); total != len(want) || !bytes.Equal(sum.Sum(nil), w[:]) {
					return fmt.Errorf("received %d bytes (hash %x), sent %d (hash %x)", total, sum.Sum(nil), len(want), w)
				}
				return nil
			}
		}
		if err := spawnAll(h, send(client, up), receive(client, down), send(server, down), receive(server, up)); err != nil {
			return err
		}
		if maxBuf > 4*tlsChunk {
			return fmt.Errorf("a ciphertext buffer grew to %d bytes", maxBuf)
		}
		return nil
	})
}

// TestTLSNettest holds TLSConn to golang.org/x/net/nettest's conformance
// suite, through BridgeTLS since the suite calls from plain goroutines. It
// passes where crypto/tls over a net.Conn would not: the suite goes on
// using a connection after a Write has timed out.
func TestTLSNettest(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		h := hub.New()
		type pairResult struct {
			c, s *TLSConn
			err  error
		}
		ready := make(chan pairResult, 1)
		quit := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- h.Run(func() error {
				srvCfg, _ := tlsConfigs()
				// Without tickets nothing stays unread in the socket of a
				// client that only writes, which would turn its close(2)
				// into a reset.
				srvCfg.SessionTicketsDisabled = true
				c, s, err := tlsPair(h, srvCfg, nil, true)
				ready <- pairResult{c, s, err}
				if err != nil {
					return err
				}
				return h.Offload(func() { <-quit })
			})
		}()
		r := <-ready
		if r.err != nil {
			close(quit)
			<-done
			return nil, nil, nil, r.err
		}
		stop = func() {
			h.Submit(func() { r.c.Close(); r.s.Close() })
			close(quit)
			<-done
		}
		return BridgeTLS(r.c), BridgeTLS(r.s), stop, nil
	})
}

// splitPair is tlsPair (handshake done, no session tickets) with a relay
// between the sockets: what the server sends goes through a green thread
// which, once split is called, passes on only the first half of the next
// thing it reads, and the rest when release is called.
func splitPair(h *hub.Hub) (client, server *TLSConn, split, release func(), err error) {
	cc, x1, err := pair(h)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	x2, sc, err := pair(h)
	if err != nil {
		cc.Close()
		x1.Close()
		return nil, nil, nil, nil, err
	}
	held := greensync.NewEvent[struct{}](h)
	splitting := false
	greenthread.SpawnN(h, func() { io.Copy(x2, x1); x2.Close() })
	greenthread.SpawnN(h, func() {
		defer x1.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := x2.Read(buf)
			if err != nil {
				return
			}
			if splitting {
				splitting = false
				x1.Write(buf[:n/2])
				held.Wait()
				x1.Write(buf[n/2 : n])
				continue
			}
			if _, err := x1.Write(buf[:n]); err != nil {
				return
			}
		}
	})
	srvCfg, cliCfg := tlsConfigs()
	srvCfg.SessionTicketsDisabled = true
	client, server = TLSClient(cc, cliCfg), TLSServer(sc, srvCfg)
	if err := spawnAll(h, client.Handshake, server.Handshake); err != nil {
		client.Close()
		server.Close()
		return nil, nil, nil, nil, err
	}
	return client, server, func() { splitting = true }, func() { held.Send(struct{}{}) }, nil
}

// TestTLSReadWakers: a Read parked after the handshake, with half a record
// in, is ended by a read deadline, a greensync.Timeout or a Kill. tls keeps
// the half record: once the rest comes, the next Read returns the data,
// and the connection goes on.
func TestTLSReadWakers(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(h *hub.Hub, c *TLSConn) error // runs a Read that must end, and checks how
	}{
		{name: "read deadline", end: func(h *hub.Hub, c *TLSConn) error {
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			_, err := c.Read(make([]byte, 10))
			c.SetReadDeadline(time.Time{})
			return isTimeout(err)
		}},
		{name: "greensync.Timeout", end: func(h *hub.Hub, c *TLSConn) error {
			to, _ := greensync.StartTimeout(h, 20*time.Millisecond)
			defer to.Cancel()
			if _, err := c.Read(make([]byte, 10)); !errors.Is(err, greensync.ErrTimeout) {
				return fmt.Errorf("read: %v, want the Timeout", err)
			}
			return nil
		}},
		{name: "kill", end: func(h *hub.Hub, c *TLSConn) error {
			reader := greenthread.Spawn(h, func() (int, error) { return c.Read(make([]byte, 10)) })
			if err := waitFor(h, "the reader parks", func() bool { return parkedReading(c) }); err != nil {
				return err
			}
			if err := reader.Kill(); err != nil {
				return err
			}
			if _, err := reader.Wait(); !errors.Is(err, hub.ErrKilled) {
				return fmt.Errorf("killed reader: %v", err)
			}
			if c.rmu.Locked() {
				return errors.New("the read lock outlived the killed reader")
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				client, server, split, release, err := splitPair(h)
				if err != nil {
					return err
				}
				defer client.Close()
				defer server.Close()
				const msg = "a record that arrives in two halves"
				split()
				if _, err := server.Write([]byte(msg)); err != nil {
					return err
				}
				if err := tc.end(h, client); err != nil {
					return err
				}
				release()
				buf := make([]byte, len(msg))
				if _, err := io.ReadFull(client, buf); err != nil || string(buf) != msg {
					return fmt.Errorf("read after the ended Read: %q, %v", buf, err)
				}
				return roundTripTLS(client, server, "usable after the read was ended")
			})
		})
	}
}

// TestTLSWriteEndedKeepsStream: a Write ended by a write deadline or a
// greensync.Timeout while the peer does not read returns the count tls
// took; the connection stays usable and, once the rest is written, the
// peer has received exactly the data, in order. crypto/tls over a net.Conn
// would fail every later Write.
func TestTLSWriteEndedKeepsStream(t *testing.T) {
	const size = 8 << 20
	for _, tc := range []struct {
		name  string
		write func(h *hub.Hub, c *TLSConn, b []byte) (int, error)
		check func(error) error
	}{
		{name: "write deadline", write: func(h *hub.Hub, c *TLSConn, b []byte) (int, error) {
			c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
			defer c.SetWriteDeadline(time.Time{})
			return c.Write(b)
		}, check: isTimeout},
		{name: "past deadline", write: func(h *hub.Hub, c *TLSConn, b []byte) (int, error) {
			c.SetWriteDeadline(time.Now().Add(-time.Second))
			defer c.SetWriteDeadline(time.Time{})
			n, err := c.Write(b)
			if n != 0 {
				return n, fmt.Errorf("a Write past its deadline wrote %d bytes", n)
			}
			return n, err
		}, check: isTimeout},
		{name: "greensync.Timeout", write: func(h *hub.Hub, c *TLSConn, b []byte) (int, error) {
			to, _ := greensync.StartTimeout(h, 20*time.Millisecond)
			defer to.Cancel()
			return c.Write(b)
		}, check: func(err error) error {
			if !errors.Is(err, greensync.ErrTimeout) {
				return fmt.Errorf("write: %v, want the Timeout", err)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				client, server, err := tlsPair(h, nil, nil, true)
				if err != nil {
					return err
				}
				defer client.Close()
				defer server.Close()
				if err := smallBuffers(client, server); err != nil {
					return err
				}
				data := make([]byte, size)
				mrand.NewChaCha8([32]byte{3}).Read(data)
				n, err := tc.write(h, client, data)
				if err := tc.check(err); err != nil {
					return err
				}
				if n >= size {
					return fmt.Errorf("the ended Write wrote all %d bytes", n)
				}
				return spawnAll(h,
					func() error {
						if m, err := client.Write(data[n:]); m != size-n || err != nil {
							return fmt.Errorf("second write: %d, %v", m, err)
						}
						return client.CloseWrite()
					},
					func() error {
						got, err := io.ReadAll(server)
						if err != nil {
							return err
						}
						if !bytes.Equal(got, data) {
							return fmt.Errorf("peer received %d bytes, differing from the %d sent", len(got), size)
						}
						return nil
					})
			})
		})
	}
}

// TestTLSHandshakeFailureIsFinal: a handshake ended by a deadline or a
// context fails with an error naming it, and for good, as in crypto/tls.
func TestTLSHandshakeFailureIsFinal(t *testing.T) {
	for _, tc := range []struct {
		name  string
		run   func(c *TLSConn) error
		check func(error) error
	}{
		{name: "read deadline", run: func(c *TLSConn) error {
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			return c.Handshake()
		}, check: isTimeout},
		{name: "context", run: func(c *TLSConn) error {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			return c.HandshakeContext(ctx)
		}, check: func(err error) error {
			if !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("handshake: %v, want context.DeadlineExceeded", err)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hubtest.Main(t, func(h *hub.Hub) error {
				client, server, err := tlsPair(h, nil, nil, false)
				if err != nil {
					return err
				}
				defer client.Close()
				defer server.Close()
				err = tc.run(client) // the server never answers
				if err := tc.check(err); err != nil {
					return err
				}
				client.SetReadDeadline(time.Time{})
				if err2 := client.Handshake(); err2 == nil {
					return errors.New("a second handshake succeeded")
				}
				if _, err2 := client.Write([]byte("x")); err2 == nil {
					return errors.New("Write after a failed handshake succeeded")
				}
				if st := client.ConnectionState(); st.HandshakeComplete {
					return errors.New("ConnectionState says complete")
				}
				return nil
			})
		})
	}
}

// TestTLSKeyUpdateWhileWriterParked: the peer sends a TLS 1.3 KeyUpdate
// asking for one back while a Write of ours is parked, holding tls's output
// lock in a plain tls.Conn: the reader must send the reply and would wait
// for that lock on the hub's OS thread for good. With TLSConn the reply
// goes into the buffer behind the parked Write's records; the reader gets
// the data that follows the KeyUpdate, and the peer, once it reads, gets
// the whole stream, decrypting past our key change.
//
// crypto/tls has no API to send a KeyUpdate, so the test makes the peer's
// records itself from the traffic secret the server logs (KeyLogWriter).
func TestTLSKeyUpdateWhileWriterParked(t *testing.T) {
	const size = 4 << 20
	hubtest.Main(t, func(h *hub.Hub) error {
		var keyLog bytes.Buffer
		srvCfg, cliCfg := tlsConfigs()
		srvCfg.SessionTicketsDisabled = true // the server's first record is ours
		srvCfg.KeyLogWriter = &keyLog
		cliCfg.MinVersion = tls.VersionTLS13
		client, server, err := tlsPair(h, srvCfg, cliCfg, true)
		if err != nil {
			return err
		}
		defer client.Close()
		defer server.Close()
		st := server.ConnectionState()
		var newHash func() hash.Hash
		var keyLen int
		switch st.CipherSuite {
		case tls.TLS_AES_128_GCM_SHA256:
			newHash, keyLen = sha256.New, 16
		case tls.TLS_AES_256_GCM_SHA384:
			newHash, keyLen = sha512.New384, 32
		default:
			t.Skipf("cipher suite %s: the test makes AES-GCM records only", tls.CipherSuiteName(st.CipherSuite))
		}
		secret, err := loggedSecret(keyLog.String(), "SERVER_TRAFFIC_SECRET_0")
		if err != nil {
			return err
		}
		if err := smallBuffers(client, server); err != nil {
			return err
		}
		data := make([]byte, size)
		mrand.NewChaCha8([32]byte{4}).Read(data)
		writer := greenthread.Spawn(h, func() (int, error) { return client.Write(data) })
		if err := waitFor(h, "the writer parks", func() bool { return parkedWriting(client) }); err != nil {
			return err
		}
		buffered := len(client.tr.out)
		// KeyUpdate(update_requested) under the server's first key, then
		// application data under the next one.
		keyUpdate := tls13Record(newHash, keyLen, secret, 0, 22, []byte{24, 0, 0, 1, 1})
		next := expandLabel(newHash, secret, "traffic upd", newHash().Size())
		after := tls13Record(newHash, keyLen, next, 0, 23, []byte("after the key update"))
		if _, err := server.NetConn().Write(append(keyUpdate, after...)); err != nil {
			return err
		}
		buf := make([]byte, 64)
		n, err := client.Read(buf)
		if err != nil || string(buf[:n]) != "after the key update" {
			return fmt.Errorf("client read %q, %v", buf[:n], err)
		}
		if writer.Dead() || !parkedWriting(client) {
			return errors.New("the writer finished before the peer read anything")
		}
		if len(client.tr.out) <= buffered {
			return errors.New("the KeyUpdate reply was not buffered behind the parked Write")
		}
		got := make([]byte, size)
		if _, err := io.ReadFull(server, got); err != nil {
			return fmt.Errorf("peer read: %w", err)
		}
		if !bytes.Equal(got, data) {
			return errors.New("the peer received different data")
		}
		if n, err := writer.Wait(); n != size || err != nil {
			return fmt.Errorf("writer: %d, %v", n, err)
		}
		return nil
	})
}

// loggedSecret finds a secret in NSS key log format.
func loggedSecret(log, label string) ([]byte, error) {
	for line := range strings.Lines(log) {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == label {
			return hex.DecodeString(f[2])
		}
	}
	return nil, fmt.Errorf("no %s in the key log", label)
}

// expandLabel is TLS 1.3's HKDF-Expand-Label with an empty context.
func expandLabel(newHash func() hash.Hash, secret []byte, label string, n int) []byte {
	info := binary.BigEndian.AppendUint16(nil, uint16(n))
	info = append(info, byte(len("tls13 ")+len(label)))
	info = append(info, "tls13 "+label...)
	info = append(info, 0)
	out, err := hkdf.Expand(newHash, secret, string(info), n)
	if err != nil {
		panic(err)
	}
	return out
}

// tls13Record encrypts one TLS 1.3 record of type typ (AES-GCM) with the
// traffic secret's key and sequence number seq.
func tls13Record(newHash func() hash.Hash, keyLen int, secret []byte, seq uint64, typ byte, payload []byte) []byte {
	key := expandLabel(newHash, secret, "key", keyLen)
	iv := expandLabel(newHash, secret, "iv", 12)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	nonce := bytes.Clone(iv)
	for i := range 8 {
		nonce[4+i] ^= byte(seq >> (56 - 8*i))
	}
	inner := append(bytes.Clone(payload), typ)
	hdr := []byte{23, 3, 3, 0, 0}
	binary.BigEndian.PutUint16(hdr[3:], uint16(len(inner)+aead.Overhead()))
	return aead.Seal(hdr, nonce, inner, hdr)
}

// TestTLSOutside: calls from a goroutine that is not the hub's fail with
// hub.ErrOutside; the address and state getters work from anywhere.
func TestTLSOutside(t *testing.T) {
	h := hub.New()
	var client *TLSConn
	var outside []error
	hubtest.MustRun(t, h, func() error {
		c, s, err := tlsPair(h, nil, nil, true)
		if err != nil {
			return err
		}
		defer c.Close()
		defer s.Close()
		client = c
		return h.Offload(func() {
			_, err1 := client.Read(make([]byte, 1))
			_, err2 := client.Write([]byte("x"))
			outside = []error{err1, err2, client.Close(), client.CloseWrite(), client.Handshake() /* done: nil */}
			if client.LocalAddr() == nil || client.RemoteAddr() == nil || !client.ConnectionState().HandshakeComplete {
				outside = append(outside, errors.New("getters failed from a goroutine"))
			}
		})
	})
	for i, err := range outside[:4] {
		if !errors.Is(err, hub.ErrOutside) {
			t.Errorf("call %d from outside: %v, want hub.ErrOutside", i, err)
		}
	}
	if outside[4] != nil {
		t.Errorf("Handshake of a done handshake from outside: %v", outside[4])
	}
	if len(outside) > 5 {
		t.Error(outside[5])
	}
}

// TestDialTLS: DialTLS takes ServerName from the address, and fails (and
// closes) when the certificate does not verify.
func TestDialTLS(t *testing.T) {
	hubtest.Main(t, func(h *hub.Hub) error {
		srvCfg, cliCfg := tlsConfigs()
		l, err := Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &Server{Handler: func(c *Conn) {
			s := TLSServer(c, srvCfg)
			defer s.Close()
			line, err := bufio.NewReader(s).ReadString('\n')
			if err == nil {
				s.Write([]byte(strings.ToUpper(line)))
			}
		}}
		greenthread.SpawnN(h, func() { srv.Serve(l) })
		defer srv.Stop()
		cliCfg.ServerName = "" // from the address: the certificate has 127.0.0.1
		for _, tc := range []struct {
			name string
			cfg  *tls.Config
			ok   bool
		}{
			{name: "trusted", cfg: cliCfg, ok: true},
			{name: "untrusted", cfg: &tls.Config{}},
		} {
			c, err := DialTLS(h, "tcp", l.Addr().String(), tc.cfg)
			if !tc.ok {
				var unknown x509.UnknownAuthorityError
				if !errors.As(err, &unknown) {
					return fmt.Errorf("%s: %v, want x509.UnknownAuthorityError", tc.name, err)
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("%s: %w", tc.name, err)
			}
			if cliCfg.ServerName != "" {
				return errors.New("DialTLS changed the caller's config")
			}
			fmt.Fprintf(c, "hello\n")
			reply, err := io.ReadAll(c)
			c.Close()
			if err != nil || string(reply) != "HELLO\n" {
				return fmt.Errorf("%s: reply %q, %v", tc.name, reply, err)
			}
		}
		return nil
	})
}
