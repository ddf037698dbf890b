package sshfleet

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"

	"golang.org/x/crypto/ssh"
)

// serverVersion is the identification string hosts send.
const serverVersion = "SSH-2.0-cscs_sshfleet"

// maxAuthTries bounds authentication attempts per connection.
const maxAuthTries = 6

// errAccessDenied is returned for every failed attempt; it says nothing
// about which part was wrong.
var errAccessDenied = errors.New("access denied")

// authenticator checks credentials. Only digests of the user and password
// are kept, compared in constant time.
type authenticator struct {
	userSum     [sha256.Size]byte
	passwordSum [sha256.Size]byte
	hasPassword bool
	key         []byte // wire form of the authorized key, nil if none
}

func newAuthenticator(user, password string, key ssh.PublicKey) *authenticator {
	a := &authenticator{
		userSum:     sha256.Sum256([]byte(user)),
		passwordSum: sha256.Sum256([]byte(password)),
		hasPassword: password != "",
	}
	if key != nil {
		a.key = key.Marshal()
	}
	return a
}

// serverConfig returns a host's config: its own host key, shared checks.
func (a *authenticator) serverConfig(hostKey ssh.Signer) *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		MaxAuthTries:  maxAuthTries,
		ServerVersion: serverVersion,
	}
	if a.hasPassword {
		cfg.PasswordCallback = a.checkPassword
	}
	if a.key != nil {
		cfg.PublicKeyCallback = a.checkKey
	}
	cfg.AddHostKey(hostKey)
	return cfg
}

func (a *authenticator) userMatches(user string) bool {
	sum := sha256.Sum256([]byte(user))
	return subtle.ConstantTimeCompare(sum[:], a.userSum[:]) == 1
}

func (a *authenticator) checkPassword(conn ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
	sum := sha256.Sum256(password)
	userOK := a.userMatches(conn.User())
	passOK := subtle.ConstantTimeCompare(sum[:], a.passwordSum[:]) == 1
	if userOK && passOK {
		return &ssh.Permissions{}, nil
	}
	return nil, errAccessDenied
}

func (a *authenticator) checkKey(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	userOK := a.userMatches(conn.User())
	keyOK := subtle.ConstantTimeCompare(key.Marshal(), a.key) == 1
	if userOK && keyOK {
		return &ssh.Permissions{}, nil
	}
	return nil, errAccessDenied
}
