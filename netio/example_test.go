package netio_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

// An echo server and a client in one hub: eventlet's listen, serve and
// connect. The server runs a green thread per connection; the client's
// Read parks it while the server's green thread answers.
func Example() {
	h := hub.New()
	err := h.Run(func() error {
		l, err := netio.Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &netio.Server{Handler: func(c *netio.Conn) {
			io.Copy(c, c) // echo until EOF
		}}
		h.Raw().Spawn(func() error { return srv.Serve(l) }, nil)
		defer srv.Stop()

		c, err := netio.Dial(h, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintf(c, "hello, green world\n")
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		fmt.Print(line)
		return nil
	})
	fmt.Println("hub finished:", err)
	// Output:
	// hello, green world
	// hub finished: <nil>
}

// A read deadline on a hub timer: the error is os.ErrDeadlineExceeded and
// a net.Error whose Timeout is true.
func ExampleConn_SetReadDeadline() {
	h := hub.New()
	h.Run(func() error {
		l, _ := netio.Listen(h, "tcp", "127.0.0.1:0")
		defer l.Close()
		c, _ := netio.Dial(h, "tcp", l.Addr().String())
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		fmt.Println(err.(interface{ Timeout() bool }).Timeout())
		return nil
	})
	// Output:
	// true
}

// UDP: eventlet's green UDP sockets are net.PacketConns.
func ExampleListenPacket() {
	h := hub.New()
	h.Run(func() error {
		a, _ := netio.ListenPacket(h, "udp", "127.0.0.1:0")
		defer a.Close()
		b, _ := netio.ListenPacket(h, "udp", "127.0.0.1:0")
		defer b.Close()
		b.WriteTo([]byte("ping"), a.LocalAddr())
		buf := make([]byte, 16)
		n, from, _ := a.ReadFrom(buf)
		fmt.Println(string(buf[:n]), from.String() == b.LocalAddr().String())
		return nil
	})
	// Output:
	// ping true
}

// A TLS echo server and client in one hub (eventlet's wrap_ssl): the
// server wraps each accepted Conn with TLSServer, the client dials with
// DialTLS, which verifies the certificate against the address's IP.
func ExampleDialTLS() {
	cert, roots := selfSigned()
	h := hub.New()
	err := h.Run(func() error {
		l, err := netio.Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &netio.Server{Handler: func(c *netio.Conn) {
			t := netio.TLSServer(c, &tls.Config{Certificates: []tls.Certificate{cert}})
			defer t.Close()
			line, err := bufio.NewReader(t).ReadString('\n')
			if err == nil {
				io.WriteString(t, strings.ToUpper(line))
			}
		}}
		h.Raw().Spawn(func() error { return srv.Serve(l) }, nil)
		defer srv.Stop()

		c, err := netio.DialTLS(h, "tcp", l.Addr().String(), &tls.Config{RootCAs: roots})
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Println(tls.VersionName(c.ConnectionState().Version))
		fmt.Fprintf(c, "hello, secure green world\n")
		reply, err := io.ReadAll(c) // until the server's close_notify
		if err != nil {
			return err
		}
		fmt.Print(string(reply))
		return nil
	})
	fmt.Println("hub finished:", err)
	// Output:
	// TLS 1.3
	// HELLO, SECURE GREEN WORLD
	// hub finished: <nil>
}

// selfSigned makes an ECDSA P-256 certificate for 127.0.0.1 and a pool
// that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	leaf, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, roots
}
