package smtp

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// passwordCanary is the password the fuzz target plants.
const passwordCanary = "Qz7smtpCANARY"

// jsonPassword matches the password setting when it is a string without
// escapes.
var jsonPassword = regexp.MustCompile(`("password"\s*:\s*)"[^"\\]*"`)

// FuzzParseConfig parses fuzzed notifier configurations (from an
// operator's overlay block). Properties: no panic; a Config or an error;
// the error never quotes the password; an accepted configuration has a
// host, a sender, a port in 1-65535, a known security mode and mechanism,
// a positive timeout, and a username exactly when it has a password.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{"host": "smtp.example.com", "port": 587, "security": "starttls", "username": "cscs", "password": "x", "from": "CSCS <cscs@example.com>", "timeout": "10s"}`,
		`{"host":"127.0.0.1","from":"a@b","username":"u","password":"x","auth":"login","insecure_skip_verify":true}`,
		`{"port":-1,"security":"x","timeout":"soon","password":"x"}`,
		`{"host":"smtp.example.com","port":25,"security":"none","username":"u","password":"x","from":"a@b"}`,
		`{"host":"h","from":"a@b","pasword":"x"}`,
		`{"host":"[::1]:25","from":"cscs at example.com"} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte(passwordCanary[:4])) {
			t.Skip()
		}
		data = jsonPassword.ReplaceAll(data, []byte(`${1}"`+passwordCanary+`"`))
		c, s, err := parseConfig(data)
		if err != nil {
			if c != (Config{}) {
				t.Errorf("config %+v with error %v", c, err)
			}
			if strings.Contains(err.Error(), passwordCanary) {
				t.Errorf("the error quotes the password: %v", err)
			}
			return
		}
		if s.host == "" || s.from == nil || s.port < 1 || s.port > 65535 || s.timeout <= 0 ||
			!strings.Contains("|none|starttls|tls|", "|"+s.security+"|") || (s.auth != AuthPlain && s.auth != AuthLogin) ||
			(s.username == "") != (s.password == "") {
			t.Errorf("accepted as %+v", s)
		}
		if s.timeout != DefaultTimeout && c.Timeout == "" {
			t.Errorf("timeout %v without a timeout setting", time.Duration(s.timeout))
		}
	})
}
