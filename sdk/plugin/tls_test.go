package plugin

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

// handshake runs a TLS handshake between a client and a server config
// over a loopback TCP connection (buffered, unlike net.Pipe, so TLS 1.3's
// session tickets cannot deadlock it) and returns the client's and the
// server's errors.
func handshake(t *testing.T, client, server *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		// TLS 1.3 checks the client's certificate after the client's
		// handshake returns: read to see the verdict.
		_, err = conn.Read(make([]byte, 1))
		done <- err
	}()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), client)
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = conn.Write([]byte("x"))
		conn.Close()
	}
	return err, <-done
}

// pipeTLS returns the client and server configurations of one new pair
// of keys, as a host and the plugin it starts get them.
func pipeTLS(t *testing.T) (client, server *tls.Config) {
	t.Helper()
	client, bundle, err := NewPipeTLS()
	if err != nil {
		t.Fatal(err)
	}
	server, err = serverTLSFromBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	return client, server
}

func TestPipeTLS(t *testing.T) {
	client, server := pipeTLS(t)
	otherClient, otherServer := pipeTLS(t)
	noCert := client.Clone()
	noCert.Certificates = nil

	tests := []struct {
		name           string
		client, server *tls.Config
		ok             bool
	}{
		{name: "the pair", client: client, server: server, ok: true},
		{name: "another host's client", client: otherClient, server: server},
		{name: "another plugin's server", client: client, server: otherServer},
		{name: "a client without a certificate", client: noCert, server: server},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cErr, sErr := handshake(t, tt.client, tt.server)
			if tt.ok && (cErr != nil || sErr != nil) {
				t.Fatalf("client %v, server %v; want a connection", cErr, sErr)
			}
			if !tt.ok && cErr == nil && sErr == nil {
				t.Fatal("connected; want the handshake refused")
			}
		})
	}
}

func TestServerTLSFromBadBundles(t *testing.T) {
	_, bundle, err := NewPipeTLS()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]string{
		"empty":         "",
		"not PEM":       "hello",
		"two blocks":    string(bundle[:strings.LastIndex(string(bundle), "-----BEGIN CERTIFICATE-----")]),
		"garbage block": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := serverTLSFromBundle([]byte(b)); err == nil || !strings.Contains(err.Error(), "plugin TLS keys") {
				t.Errorf("error %v, want one about the plugin TLS keys", err)
			}
		})
	}
}
