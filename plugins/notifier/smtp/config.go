package smtp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"strings"
	"time"

	"github.com/cscs-dev/cscs/sdk/schema"
)

// Security modes of the connection to the SMTP server.
const (
	// SecurityNone is plain SMTP; credentials are then only sent to a
	// loopback server.
	SecurityNone = "none"
	// SecurityStartTLS connects in plain text and upgrades with STARTTLS,
	// which the server must offer.
	SecurityStartTLS = "starttls"
	// SecurityTLS speaks TLS from the first byte (SMTPS, usually port 465).
	SecurityTLS = "tls"
)

// Authentication mechanisms.
const (
	AuthPlain = "plain"
	AuthLogin = "login"
)

// DefaultTimeout bounds connecting and each exchange with the server when
// the configuration names no timeout.
const DefaultTimeout = 10 * time.Second

// Config is the notifier's configuration, a JSON object:
//
//	{"host": "smtp.example.com", "port": 587, "security": "starttls",
//	 "username": "cscs", "password": "…", "from": "CSCS <cscs@example.com>",
//	 "timeout": "10s"}
//
// The core resolves env:/file: secrets before passing the password.
type Config struct {
	// Host is the SMTP server's name or IP address. Required.
	Host string `json:"host"`
	// Port defaults from Security: 465 for tls, 587 for starttls, 25 for
	// none.
	Port int `json:"port,omitempty"`
	// Security is "none", "starttls" or "tls". Left out, it follows Port:
	// tls for 465, starttls for 587, none otherwise.
	Security string `json:"security,omitempty"`
	// Username and Password go together; both empty means no SMTP AUTH.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Auth is the mechanism, "plain" (default) or "login".
	Auth string `json:"auth,omitempty"`
	// From is the sender, "cscs@example.com" or "CSCS <cscs@example.com>".
	// Required.
	From string `json:"from"`
	// Timeout is a Go duration ("10s") bounding each exchange; default
	// DefaultTimeout. Connecting (up to the server's greeting, STARTTLS
	// and AUTH) gets DefaultConnectTimeout, or Timeout when shorter.
	Timeout string `json:"timeout,omitempty"`
	// InsecureSkipVerify accepts any server certificate. For tests with a
	// self-signed certificate only.
	InsecureSkipVerify bool `json:"insecure_skip_verify,omitempty"`
}

// configSchema declares Config to the core, which checks an operator's
// block against it (and masks the password); parseConfig still checks the
// values itself.
func configSchema() schema.Schema {
	return schema.Schema{Attributes: []schema.Attribute{
		{Name: "host", Type: schema.String, Required: true, Description: `the SMTP server's name or IP address, such as "smtp.example.com"`},
		{Name: "port", Type: schema.Number, Description: "TCP port; defaults from security: 465 for tls, 587 for starttls, 25 for none"},
		{Name: "security", Type: schema.String, Description: `"none", "starttls" or "tls"; left out, it follows the port`},
		{Name: "username", Type: schema.String, Description: "SMTP AUTH user; set together with password, or neither"},
		{Name: "password", Type: schema.String, Sensitive: true, Description: "SMTP AUTH password; set together with username, or neither"},
		{Name: "auth", Type: schema.String, Description: `SMTP AUTH mechanism, "plain" (default) or "login"`},
		{Name: "from", Type: schema.String, Required: true, Description: `the sender, such as "CSCS <cscs@example.com>"`},
		{Name: "timeout", Type: schema.Duration, Description: `bound of the connection and of each exchange, such as "10s" (default)`},
		{Name: "insecure_skip_verify", Type: schema.Bool, Description: "accept any server certificate; for tests with a self-signed certificate only"},
	}}
}

// settings is a validated Config with every default filled in.
type settings struct {
	host               string
	port               int
	security           string
	username           string
	password           string
	auth               string
	from               *mail.Address
	timeout            time.Duration
	insecureSkipVerify bool
}

// ParseConfig decodes and checks a configuration. Its errors never quote
// the password.
func ParseConfig(data []byte) (Config, error) {
	c, _, err := parseConfig(data)
	return c, err
}

func parseConfig(data []byte) (Config, settings, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, settings{}, fmt.Errorf("smtp configuration: %w", err)
	}
	if dec.More() {
		return Config{}, settings{}, errors.New("smtp configuration: text follows the JSON object; pass exactly one object")
	}
	s, err := c.settings()
	if err != nil {
		return Config{}, settings{}, err
	}
	return c, s, nil
}

// settings validates c and fills in defaults.
func (c Config) settings() (settings, error) {
	s := settings{
		host:               strings.TrimSpace(c.Host),
		port:               c.Port,
		security:           strings.ToLower(strings.TrimSpace(c.Security)),
		username:           c.Username,
		password:           c.Password,
		auth:               strings.ToLower(strings.TrimSpace(c.Auth)),
		insecureSkipVerify: c.InsecureSkipVerify,
	}
	var problems []string
	switch {
	case s.host == "":
		problems = append(problems, `"host" is required: name the SMTP server, e.g. "smtp.example.com"`)
	case strings.ContainsAny(s.host, " \t\r\n/@"):
		problems = append(problems, fmt.Sprintf(`"host" %q is not a host name or IP address`, s.host))
	case strings.Contains(s.host, ":") && !isIPAddress(s.host):
		problems = append(problems, fmt.Sprintf(`"host" %q holds a port: write the port in "port"`, s.host))
	}
	if s.port < 0 || s.port > 65535 {
		problems = append(problems, fmt.Sprintf(`"port" %d is outside 1..65535`, s.port))
	}
	switch s.security {
	case "":
		s.security = securityForPort(s.port)
	case SecurityNone, SecurityStartTLS, SecurityTLS:
	default:
		problems = append(problems, fmt.Sprintf(`"security" %q is unknown: use "none", "starttls" or "tls"`, c.Security))
	}
	if s.port == 0 {
		s.port = portForSecurity(s.security)
	}
	if c.From == "" {
		problems = append(problems, `"from" is required: the sender address, e.g. "CSCS <cscs@example.com>"`)
	} else if from, err := mail.ParseAddress(c.From); err != nil {
		problems = append(problems, fmt.Sprintf(`"from" %q is not a mail address (%v)`, c.From, err))
	} else {
		s.from = from
	}
	switch {
	case s.username == "" && s.password != "":
		problems = append(problems, `"password" is set without "username": set both or neither`)
	case s.username != "" && s.password == "":
		problems = append(problems, `"username" is set without "password": set both or neither`)
	case s.username != "" && s.security == SecurityNone && !isLoopback(s.host):
		problems = append(problems, fmt.Sprintf(`"security" is "none": the password would cross the network to %s in clear text; use "starttls" or "tls"`, s.host))
	}
	switch s.auth {
	case "":
		s.auth = AuthPlain
	case AuthPlain, AuthLogin:
	default:
		problems = append(problems, fmt.Sprintf(`"auth" %q is unknown: use "plain" or "login"`, c.Auth))
	}
	s.timeout = DefaultTimeout
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf(`"timeout" %q is not a duration such as "10s"`, c.Timeout))
		case d <= 0:
			problems = append(problems, fmt.Sprintf(`"timeout" %q must be positive`, c.Timeout))
		default:
			s.timeout = d
		}
	}
	if len(problems) > 0 {
		return settings{}, fmt.Errorf("smtp configuration: %s", strings.Join(problems, "; "))
	}
	return s, nil
}

// securityForPort is the security a port implies when none is written.
func securityForPort(port int) string {
	switch port {
	case 465:
		return SecurityTLS
	case 587:
		return SecurityStartTLS
	}
	return SecurityNone
}

// portForSecurity is the port a security mode implies when none is written.
func portForSecurity(security string) int {
	switch security {
	case SecurityTLS:
		return 465
	case SecurityStartTLS:
		return 587
	}
	return 25
}

// isIPAddress reports whether host is an IP address, brackets allowed.
func isIPAddress(host string) bool {
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && addr.IsLoopback()
}
