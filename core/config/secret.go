package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// secretMask is what every printing of a Secret written in plain text shows.
const secretMask = "********"

// maxSecretFileSize bounds how much of a file:PATH secret is read, so a
// mistyped path such as file:/dev/zero cannot exhaust memory.
const maxSecretFileSize = 64 << 10

// Secret is a resolved secret value (a password) together with how the
// operator wrote it. Every way of printing it — fmt verbs, String,
// GoString, JSON, text marshalling, slog — shows a mask: "********" for a
// secret written in plain text, or its source ("env:NAME", "file:PATH").
// Only Reveal returns the value.
//
// The value sits behind a pointer so that even reflection-based printing
// of a struct that holds a Secret in an unexported field shows an address,
// not the text.
type Secret struct {
	value  *string
	source string // "" for plain text, otherwise "env:NAME" or "file:PATH" as written
}

// NewSecret returns a Secret holding value, as if written in plain text.
func NewSecret(value string) Secret {
	if value == "" {
		return Secret{}
	}
	return Secret{value: &value}
}

// ParseSecret resolves a secret as an operator wrote it:
//
//   - "env:NAME" reads environment variable NAME through lookupEnv (nil
//     means os.LookupEnv); an unset or empty variable is an error.
//   - "file:PATH" reads the file and drops one trailing newline; a relative
//     PATH is taken relative to dir (the directory of the config file). A
//     missing or empty file is an error.
//   - anything else is the secret itself, in plain text.
//
// A plain-text password that itself begins with "env:" or "file:" must be
// put in a file and referenced with file:PATH. Errors name the variable or
// the file, never the value.
func ParseSecret(written, dir string, lookupEnv func(string) (string, bool)) (Secret, error) {
	switch {
	case strings.HasPrefix(written, "env:"):
		return secretFromEnv(written, lookupEnv)
	case strings.HasPrefix(written, "file:"):
		return secretFromFile(written, dir)
	default:
		return NewSecret(written), nil
	}
}

func secretFromEnv(written string, lookupEnv func(string) (string, bool)) (Secret, error) {
	name := strings.TrimPrefix(written, "env:")
	if name == "" {
		return Secret{}, errors.New("env: needs a variable name, as in env:CSCS_PASSWORD")
	}
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	v, ok := lookupEnv(name)
	if !ok {
		return Secret{}, fmt.Errorf("environment variable %s is not set", name)
	}
	if v == "" {
		return Secret{}, fmt.Errorf("environment variable %s is empty", name)
	}
	return Secret{value: &v, source: written}, nil
}

func secretFromFile(written, dir string) (Secret, error) {
	name := strings.TrimPrefix(written, "file:")
	if name == "" {
		return Secret{}, errors.New("file: needs a path, as in file:secrets/password.txt")
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Secret{}, fmt.Errorf("secret file %s does not exist", path)
		}
		return Secret{}, fmt.Errorf("open secret file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	if err != nil {
		return Secret{}, fmt.Errorf("read secret file: %w", err)
	}
	if len(data) > maxSecretFileSize {
		return Secret{}, fmt.Errorf("secret file %s is larger than %d bytes; is it the right file?", path, maxSecretFileSize)
	}
	v := string(data)
	if s, ok := strings.CutSuffix(v, "\n"); ok {
		v = strings.TrimSuffix(s, "\r")
	}
	if v == "" {
		return Secret{}, fmt.Errorf("secret file %s is empty", path)
	}
	return Secret{value: &v, source: written}, nil
}

// Reveal returns the secret value. Call it only where the value is used,
// such as an SSH or SMTP authentication.
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// IsZero reports whether no secret was given.
func (s Secret) IsZero() bool { return s.value == nil || *s.value == "" }

// String returns a mask: "" when no secret was given, the source
// ("env:NAME", "file:PATH") when there is one, "********" otherwise.
func (s Secret) String() string {
	switch {
	case s.IsZero():
		return ""
	case s.source != "":
		return s.source
	default:
		return secretMask
	}
}

// GoString masks the value for %#v.
func (s Secret) GoString() string { return "config.Secret(" + strconv.Quote(s.String()) + ")" }

// Format masks the value for every fmt verb and flag.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// MarshalJSON writes the mask as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText writes the mask, for encoders that use encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue masks the value in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
