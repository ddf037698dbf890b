package transport

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Auth holds the credentials offered to a host, tried in this order:
// public keys (ssh-agent, then key files), password, then
// keyboard-interactive answered with the password.
type Auth struct {
	Password string
	// KeyFiles are unencrypted private key files (OpenSSH or PEM).
	// Passphrase-protected keys are not supported yet: load them into
	// ssh-agent and set UseAgent.
	KeyFiles []string
	// UseAgent offers the keys of the ssh-agent at $SSH_AUTH_SOCK.
	UseAgent bool
}

// maxKeyboardInteractiveRounds bounds how often a server may ask.
const maxKeyboardInteractiveRounds = 3

// KeyFiles parses each private key file once for every Dial that shares
// it (Options.KeyFiles): a round reads and parses the operator's key once,
// not once per host. Parsing an RSA key is costly (≈ 3 ms for 3072 bits,
// its checks included) next to an Ed25519 key (≈ 3 µs). What a file held
// when first asked for stands for the life of the KeyFiles, a failure to
// read or parse it too: make one per round. It is safe for concurrent use.
type KeyFiles struct {
	mu sync.Mutex
	// files parse each path once (sync.OnceValues).
	files map[string]func() (ssh.Signer, error)
}

// NewKeyFiles returns an empty KeyFiles.
func NewKeyFiles() *KeyFiles {
	return &KeyFiles{files: map[string]func() (ssh.Signer, error){}}
}

// load returns the signer of the key file at path, parsing it on first
// use; a nil KeyFiles parses it every time.
func (k *KeyFiles) load(path string) (ssh.Signer, error) {
	if k == nil {
		return loadKeyFile(path)
	}
	k.mu.Lock()
	parse, ok := k.files[path]
	if !ok {
		parse = sync.OnceValues(func() (ssh.Signer, error) { return loadKeyFile(path) })
		k.files[path] = parse
	}
	k.mu.Unlock()
	return parse()
}

// authMethods builds the ssh.AuthMethods for a, its key files parsed
// through keys, and returns a closer for the agent connection, to call
// once the handshake is over.
func authMethods(a Auth, keys *KeyFiles) ([]ssh.AuthMethod, io.Closer, error) {
	var signers []ssh.Signer
	var closer io.Closer = nopCloser{}
	if a.UseAgent {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			return nil, nil, &Error{Kind: Config, Step: "auth", Err: errors.New("ssh-agent asked for but SSH_AUTH_SOCK is not set: start ssh-agent or turn the agent off")}
		}
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return nil, nil, &Error{Kind: Config, Step: "auth", Err: fmt.Errorf("connect to ssh-agent at SSH_AUTH_SOCK: %w", err)}
		}
		agentSigners, err := agent.NewClient(conn).Signers()
		if err != nil {
			conn.Close()
			return nil, nil, &Error{Kind: Config, Step: "auth", Err: fmt.Errorf("list ssh-agent keys: %w", err)}
		}
		signers = append(signers, agentSigners...)
		closer = conn
	}
	for _, path := range a.KeyFiles {
		s, err := keys.load(path)
		if err != nil {
			closer.Close()
			return nil, nil, err
		}
		signers = append(signers, s)
	}

	var methods []ssh.AuthMethod
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if a.Password != "" {
		password := a.Password
		rounds := 0
		methods = append(methods,
			ssh.Password(password),
			ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
				rounds++
				if rounds > maxKeyboardInteractiveRounds {
					return nil, errors.New("keyboard-interactive: too many rounds of questions")
				}
				answers := make([]string, len(questions))
				for i := range questions {
					if !echos[i] { // a secret prompt: answer with the password
						answers[i] = password
					}
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		closer.Close()
		return nil, nil, &Error{Kind: Config, Step: "auth", Err: errors.New("no credentials: give a password, a key file or use ssh-agent")}
	}
	return methods, closer, nil
}

// loadKeyFile reads an unencrypted private key. Errors name the file but
// never quote its content.
func loadKeyFile(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Kind: Config, Step: "auth", Err: fmt.Errorf("read key file: %w", err)}
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, &Error{Kind: Config, Step: "auth", Err: fmt.Errorf(
			"key file %s is protected by a passphrase, which is not supported yet: load it into ssh-agent and use the agent", path)}
	case err != nil:
		return nil, &Error{Kind: Config, Step: "auth", Err: fmt.Errorf("key file %s is not a usable private key: %w", path, err)}
	}
	return s, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
