// Package transport reaches a host over SSH: it dials with the configured
// authentication and host-key policy, detects the host's platform, keeps the
// agent in a private content-addressed remote directory and runs it.
package transport
