package greenhttp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/greenhub/greenhub/hub"
	"github.com/greenhub/greenhub/netio"
)

// selfSigned returns a certificate for 127.0.0.1 and the pool that trusts
// it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "greenhttp test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestServeTLS(t *testing.T) {
	cert, roots := selfSigned(t)
	mux := slowMux()
	mux.HandleFunc("/tls", func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || !r.TLS.HandshakeComplete {
			http.Error(w, "no TLS state", 500)
			return
		}
		io.WriteString(w, tls.VersionName(r.TLS.Version))
	})
	s := serveTLS(t, &Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB each way
	tests := []struct {
		name, method, path, body, want string
	}{
		{"hello", "GET", "/hello", "", "Hello, World!"},
		{"state", "GET", "/tls", "", "TLS 1.3"},
		{"echo 1 MiB", "POST", "/echo", big, big},
		{"keep-alive again", "GET", "/hello", "", "Hello, World!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, s.url+tt.path, strings.NewReader(tt.body))
			resp, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || string(b) != tt.want {
				t.Fatalf("got %d bytes (%.40q), %v; want %d bytes", len(b), b, err, len(tt.want))
			}
		})
	}
}

func TestServeTLSNeedsCertificate(t *testing.T) {
	h := hub.New()
	err := h.Run(func() error {
		l, err := netio.Listen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		return (&Server{}).ServeTLS(l, "", "")
	})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("ServeTLS without a certificate: %v", err)
	}
}
