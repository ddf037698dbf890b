package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/sdk/schema"
)

// defaultTimeout bounds one delivery when the configuration sets none.
const defaultTimeout = 10 * time.Second

// Config is the notifier's configuration, a JSON object:
//
//	{"url": "https://hooks.example.com/cscs", "timeout": "5s",
//	 "headers": {"Authorization": "Bearer …"}}
type Config struct {
	// URL receives one POST per notification; http or https.
	URL string `json:"url"`
	// Timeout bounds one delivery, connection included ("5s"); default 10s.
	Timeout string `json:"timeout,omitempty"`
	// Headers are added to every request; they may carry credentials, so
	// their values never appear in errors.
	Headers map[string]string `json:"headers,omitempty"`
}

// configSchema declares Config to the core, which checks an operator's
// block against it. The URL and the headers may carry credentials, so
// both are sensitive: the core masks them. parseConfig still checks every
// value itself.
func configSchema() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "url", Type: schema.String, Required: true, Sensitive: true,
			Description: "http or https address that receives one POST per notification; may hold a token"},
		{Name: "timeout", Type: schema.Duration,
			Description: `bound of one delivery, connection included, such as "5s"; default "10s"`},
		{Name: "headers", Type: schema.MapOfString, Sensitive: true,
			Description: "headers added to every request, such as credentials"},
	}}
}

// settings is a checked Config.
type settings struct {
	url *url.URL
	// endpoint is the URL without user information, path or query, which
	// may hold secrets (many webhook services put a token in the path):
	// the only form of the URL that errors show.
	endpoint string
	timeout  time.Duration
	headers  http.Header
}

// headersSetByClient are set by Go's HTTP client from the request itself;
// a configured value would be ignored, so it is refused instead.
var headersSetByClient = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection"}

// parseConfig decodes and checks a configuration. Unknown keys are errors,
// so that a misspelt key does not silently fall back to a default.
func parseConfig(raw []byte) (settings, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return settings{}, errors.New(`webhook notifier: no configuration; give at least {"url": "https://…"}`)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		return settings{}, fmt.Errorf(`webhook notifier: configuration is not a JSON object with the keys "url", "timeout" and "headers": %w`, err)
	}
	if dec.More() {
		return settings{}, errors.New("webhook notifier: configuration has data after its JSON object; give exactly one object")
	}
	u, endpoint, err := parseURL(c.URL)
	if err != nil {
		return settings{}, fmt.Errorf("webhook notifier: %w", err)
	}
	timeout, err := parseTimeout(c.Timeout)
	if err != nil {
		return settings{}, fmt.Errorf("webhook notifier: %w", err)
	}
	headers, err := parseHeaders(c.Headers)
	if err != nil {
		return settings{}, fmt.Errorf("webhook notifier: %w", err)
	}
	return settings{url: u, endpoint: endpoint, timeout: timeout, headers: headers}, nil
}

// parseURL checks raw and returns it with its redacted endpoint. Its
// errors never quote raw, which may hold a token.
func parseURL(raw string) (*url.URL, string, error) {
	if raw == "" {
		return nil, "", errors.New(`"url" is missing; set it to the http or https address that receives notifications`)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", errors.New(`"url" is not a valid URL; write it like "https://hooks.example.com/cscs"`)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, "", fmt.Errorf(`"url" has the scheme %q; use http or https`, clip(u.Scheme))
	}
	if u.Host == "" {
		return nil, "", errors.New(`"url" has no host; write it like "https://hooks.example.com/cscs"`)
	}
	return u, u.Scheme + "://" + u.Host, nil
}

func parseTimeout(raw string) (time.Duration, error) {
	if raw == "" {
		return defaultTimeout, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		return 0, fmt.Errorf(`"timeout" %q is not a duration; write it like "5s" or "1m30s"`, clip(raw))
	}
	if d <= 0 {
		return 0, fmt.Errorf(`"timeout" %q must be positive`, clip(raw))
	}
	return d, nil
}

// parseHeaders checks header names and values. Errors name the header,
// never its value.
func parseHeaders(raw map[string]string) (http.Header, error) {
	h := make(http.Header, len(raw))
	for name, value := range raw {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("header name %q is not a valid HTTP header name (letters, digits and !#$%%&'*+-.^_`|~)", clip(name))
		}
		for _, reserved := range headersSetByClient {
			if strings.EqualFold(name, reserved) {
				return nil, fmt.Errorf("header %q is set by the HTTP client from the URL and body; remove it from \"headers\"", name)
			}
		}
		if !validHeaderValue(value) {
			return nil, fmt.Errorf("the value of header %q has a control character (a line break?); remove it", name)
		}
		h.Set(name, value)
	}
	return h, nil
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func validHeaderValue(value string) bool {
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// clip shortens configuration text quoted in an error.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
