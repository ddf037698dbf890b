// Package report opens an agent's report: it decrypts it with the core's
// age identity and verifies that it answers this request (version, nonce,
// recipient) and that its content is sane. Everything in a report comes
// from a host and is treated as hostile.
package report

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"filippo.io/age"

	"github.com/cscs-dev/cscs/agent/protocol"
)

// Every rejection wraps one of these, so callers can classify it with
// errors.Is; the wrapping message says what happened and what to do.
var (
	// ErrDecrypt: the ciphertext is not an age file for this identity, or
	// was altered.
	ErrDecrypt = errors.New("report cannot be decrypted")
	// ErrNonce: the report answers another request (replayed or swapped).
	ErrNonce = errors.New("report nonce does not match the request")
	// ErrRecipient: the report claims it was made for another core key.
	ErrRecipient = errors.New("report was made for another core key")
	// ErrVersion: the agent speaks another protocol version.
	ErrVersion = errors.New("report protocol version is not supported")
	// ErrMalformed: the report is too large, not valid JSON of the
	// protocol, or carries values outside what the core accepts.
	ErrMalformed = errors.New("report is malformed")
)

// NonceBytes is the amount of randomness in a nonce from NewNonce.
const NonceBytes = 18

// NewNonce returns fresh random text for one request: NonceBytes random
// bytes, base64url without padding (24 characters).
func NewNonce() (string, error) {
	b := make([]byte, NonceBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes for a request nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Open decrypts ciphertext with id and verifies the report within
// DefaultLimits. See Limits.Open.
func Open(id *age.X25519Identity, ciphertext io.Reader, wantNonce string) (*protocol.Report, error) {
	return Limits{}.Open(id, ciphertext, wantNonce)
}

// ageHeader starts every report (the age format's version line).
const ageHeader = "age-encryption.org/v1\n"

// maxBanner bounds the text a host's shell may print before the report (a
// message of the day, a profile's or AutoRun's output) that is skipped.
const maxBanner = 64 << 10

// skipBanner drops text a login shell printed before the report: the
// report starts at the first age header within maxBanner bytes. Without
// one, sealed is returned as it is and decryption says what is wrong.
func skipBanner(sealed []byte) []byte {
	if bytes.HasPrefix(sealed, []byte(ageHeader)) {
		return sealed
	}
	head := sealed[:min(len(sealed), maxBanner+len(ageHeader))]
	if i := bytes.Index(head, []byte("\n"+ageHeader)); i >= 0 {
		return sealed[i+1:]
	}
	return sealed
}

// Open decrypts ciphertext with id and returns the report if it answers
// the request that carried wantNonce and stays within l. Every error wraps
// one of ErrDecrypt, ErrNonce, ErrRecipient, ErrVersion or ErrMalformed.
// Zero fields of l take their DefaultLimits value.
func (l Limits) Open(id *age.X25519Identity, ciphertext io.Reader, wantNonce string) (*protocol.Report, error) {
	l = l.withDefaults()
	if id == nil {
		return nil, errors.New("no core identity given to open the report")
	}
	if wantNonce == "" {
		return nil, fmt.Errorf("%w: the core passed no expected nonce; every request needs one from NewNonce", ErrNonce)
	}
	sealed, err := io.ReadAll(io.LimitReader(ciphertext, l.MaxCiphertextBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read the agent's output: %w", ErrMalformed, err)
	}
	if int64(len(sealed)) > l.MaxCiphertextBytes {
		return nil, fmt.Errorf("%w: the agent wrote more than %d bytes; check that the uploaded agent is the one shipped with this core", ErrMalformed, l.MaxCiphertextBytes)
	}
	plain, err := decrypt(id, skipBanner(sealed), l.MaxCiphertextBytes)
	if err != nil {
		return nil, err
	}
	rep, err := decode(plain)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(rep.Nonce), []byte(wantNonce)) != 1 {
		return nil, fmt.Errorf("%w: the report answers another request (replayed or swapped output); discard it and collect again", ErrNonce)
	}
	if want := id.Recipient().String(); rep.Recipient != want {
		return nil, fmt.Errorf("%w: it names recipient %.80q, this core is %s; the agent did not echo this request, so check the agent build on this host and collect again", ErrRecipient, rep.Recipient, want)
	}
	if err := l.check(rep); err != nil {
		return nil, fmt.Errorf("%w: %w; check the agent build on this host", ErrMalformed, err)
	}
	return rep, nil
}

// decrypt opens the age file. Authentication failures (wrong key, altered
// bytes, truncation) all map to ErrDecrypt.
func decrypt(id *age.X25519Identity, sealed []byte, maxPlain int64) ([]byte, error) {
	// DecryptReaderAt tells the plaintext's size before anything is read
	// and, for a report of one chunk, decrypts it without the stream
	// reader's two 64 KiB buffers.
	r, size, err := age.DecryptReaderAt(bytes.NewReader(sealed), int64(len(sealed)), id)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, fmt.Errorf("%w: it was not encrypted to this core's key; the request sent another public key, or the core key in the data directory changed", ErrDecrypt)
		}
		return nil, fmt.Errorf("%w: %s; the output was altered or truncated in transit, collect again", ErrDecrypt, brief(err))
	}
	if size > maxPlain {
		return nil, fmt.Errorf("%w: the decrypted report exceeds %d bytes", ErrMalformed, maxPlain)
	}
	plain := make([]byte, size)
	if n, err := r.ReadAt(plain, 0); n != len(plain) || (err != nil && err != io.EOF) {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: %s; the output was altered or truncated in transit, collect again", ErrDecrypt, brief(err))
	}
	return plain, nil
}

// decode parses the report strictly: unknown fields and trailing data are
// rejected. A report whose version differs is reported as ErrVersion even
// if its shape differs too.
func decode(plain []byte) (*protocol.Report, error) {
	rep, err := decodeStrict(plain)
	if err == nil && rep.Version == protocol.Version {
		return rep, nil
	}
	// Only a report that fails is parsed a second time, for its version,
	// to tell which error it is.
	var probe struct {
		Version int `json:"version"`
	}
	switch perr := json.Unmarshal(plain, &probe); {
	case errors.Is(err, errTrailingData):
		return nil, fmt.Errorf("%w: data follows the report; check the agent build on this host", ErrMalformed)
	case perr != nil:
		return nil, fmt.Errorf("%w: not a JSON report (%s); check the agent build on this host", ErrMalformed, brief(perr))
	case probe.Version != protocol.Version:
		return nil, fmt.Errorf("%w: the agent speaks version %d, this core %d; let the core upload its own agent to this host", ErrVersion, probe.Version, protocol.Version)
	}
	return nil, fmt.Errorf("%w: the report does not match protocol version %d (%s); check the agent build on this host", ErrMalformed, protocol.Version, brief(err))
}

// decodeStrict parses one report, refusing unknown fields and anything
// after it.
func decodeStrict(plain []byte) (*protocol.Report, error) {
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	var rep protocol.Report
	if err := dec.Decode(&rep); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errTrailingData
	}
	return &rep, nil
}

// errTrailingData: the report is followed by more data.
var errTrailingData = errors.New("data follows the report")

// maxErrorDetail caps how much of an underlying error's text, which may
// quote bytes from the host, goes into a message.
const maxErrorDetail = 200

// brief returns err's text cut to maxErrorDetail bytes with anything
// non-printable replaced, for errors whose text may quote hostile input.
func brief(err error) string {
	msg := err.Error()
	if len(msg) > maxErrorDetail {
		msg = msg[:maxErrorDetail] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, msg)
}
