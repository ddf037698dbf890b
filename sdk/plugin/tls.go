package plugin

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"time"
)

// EnvTLSFD names the environment variable through which a host tells a
// plugin the file descriptor it inherited its TLS keys on (see
// NewPipeTLS). Without it the plugin uses go-plugin's automatic mutual
// TLS, whose P-521 keys cost both processes about 30 ms of CPU per start.
const EnvTLSFD = "CSCS_PLUGIN_TLS_FD"

// tlsServerName is the name in the plugin's certificate that the host
// checks.
const tlsServerName = "cscs-plugin"

// maxTLSBundle bounds what a plugin reads from its TLS descriptor.
const maxTLSBundle = 64 << 10

// NewPipeTLS makes fresh Ed25519 keys and self-signed certificates for
// both ends of one plugin connection. The host dials with client; bundle
// (the plugin's certificate and private key, and the host's certificate,
// in PEM) goes to the plugin over an inherited pipe, never through its
// environment or command line, and the plugin's Serve reads it when
// EnvTLSFD names the descriptor. Each side accepts only the other's
// certificate, as with go-plugin's automatic TLS.
//
// Only plugins built with an SDK that knows EnvTLSFD serve with these
// keys; a host must not use them for older plugins.
func NewPipeTLS() (client *tls.Config, bundle []byte, err error) {
	serverCert, serverKey, err := selfSigned(x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, nil, err
	}
	clientCert, clientKey, err := selfSigned(x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, nil, err
	}
	serverX509, err := x509.ParseCertificate(serverCert)
	if err != nil {
		return nil, nil, fmt.Errorf("plugin TLS: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(serverX509)
	client = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{clientCert}, PrivateKey: clientKey}},
		RootCAs:      roots,
		ServerName:   tlsServerName,
		MinVersion:   tls.VersionTLS13,
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(serverKey)
	if err != nil {
		return nil, nil, fmt.Errorf("plugin TLS: %w", err)
	}
	bundle = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: serverCert})
	bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: clientCert})...)
	return client, bundle, nil
}

// selfSigned makes an Ed25519 key and a self-signed certificate for usage,
// valid for a day (a plugin lives for one round).
func selfSigned(usage x509.ExtKeyUsage) ([]byte, ed25519.PrivateKey, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("plugin TLS: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("plugin TLS: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: tlsServerName},
		DNSNames:              []string{tlsServerName},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return nil, nil, fmt.Errorf("plugin TLS: %w", err)
	}
	return der, key, nil
}

// serverTLS is the plugin's TLS configuration from the bundle on the
// descriptor EnvTLSFD names; nil, nil when it names none.
func serverTLS() (*tls.Config, error) {
	v := os.Getenv(EnvTLSFD)
	if v == "" {
		return nil, nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q: want the number of an inherited file descriptor (3 or more)", EnvTLSFD, v)
	}
	f := os.NewFile(uintptr(fd), "plugin TLS keys")
	if f == nil {
		return nil, fmt.Errorf("%s=%d: no such file descriptor", EnvTLSFD, fd)
	}
	defer f.Close()
	bundle, err := io.ReadAll(io.LimitReader(f, maxTLSBundle))
	if err != nil {
		return nil, fmt.Errorf("reading the TLS keys from descriptor %d: %w", fd, err)
	}
	return serverTLSFromBundle(bundle)
}

// serverTLSFromBundle parses what NewPipeTLS made for the plugin: it
// serves with its certificate and accepts only the host's.
func serverTLSFromBundle(bundle []byte) (*tls.Config, error) {
	var blocks []*pem.Block
	for rest := bundle; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) != 3 || blocks[0].Type != "CERTIFICATE" || blocks[1].Type != "PRIVATE KEY" || blocks[2].Type != "CERTIFICATE" {
		return nil, errors.New("plugin TLS keys: want a certificate, a private key and the host's certificate in PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(blocks[1].Bytes)
	if err != nil {
		return nil, fmt.Errorf("plugin TLS keys: %w", err)
	}
	host, err := x509.ParseCertificate(blocks[2].Bytes)
	if err != nil {
		return nil, fmt.Errorf("plugin TLS keys: host certificate: %w", err)
	}
	clients := x509.NewCertPool()
	clients.AddCert(host)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{blocks[0].Bytes}, PrivateKey: key}},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clients,
		MinVersion:   tls.VersionTLS13,
	}, nil
}
