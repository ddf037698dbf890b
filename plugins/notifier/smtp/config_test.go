package smtp

import (
	"strings"
	"testing"
	"time"
)

const secret = "s3cret-Pa55"

func TestParseConfigDefaults(t *testing.T) {
	tests := map[string]struct {
		json string
		want settings
	}{
		"port follows starttls": {
			`{"host":"smtp.example.com","security":"starttls","username":"u","password":"` + secret + `","from":"CSCS <cscs@example.com>"}`,
			settings{host: "smtp.example.com", port: 587, security: "starttls", username: "u", password: secret, auth: "plain", timeout: DefaultTimeout},
		},
		"port follows tls": {
			`{"host":"smtp.example.com","security":"TLS","from":"cscs@example.com"}`,
			settings{host: "smtp.example.com", port: 465, security: "tls", auth: "plain", timeout: DefaultTimeout},
		},
		"security follows port 465": {
			`{"host":"smtp.example.com","port":465,"from":"cscs@example.com"}`,
			settings{host: "smtp.example.com", port: 465, security: "tls", auth: "plain", timeout: DefaultTimeout},
		},
		"security follows port 587": {
			`{"host":"smtp.example.com","port":587,"from":"cscs@example.com"}`,
			settings{host: "smtp.example.com", port: 587, security: "starttls", auth: "plain", timeout: DefaultTimeout},
		},
		"nothing written means plain smtp on 25": {
			`{"host":"localhost","from":"cscs@localhost"}`,
			settings{host: "localhost", port: 25, security: "none", auth: "plain", timeout: DefaultTimeout},
		},
		"the shipped email_config.json": {
			`{"host":"localhost","port":2525,"security":"none","from":"CSCS <cscs@localhost>"}`,
			settings{host: "localhost", port: 2525, security: "none", auth: "plain", timeout: DefaultTimeout},
		},
		"password over plain smtp to loopback": {
			`{"host":"127.0.0.2","port":2525,"security":"none","username":"u","password":"` + secret + `","auth":"login","from":"cscs@localhost","timeout":"1500ms","insecure_skip_verify":true}`,
			settings{host: "127.0.0.2", port: 2525, security: "none", username: "u", password: secret, auth: "login", timeout: 1500 * time.Millisecond, insecureSkipVerify: true},
		},
		"ipv6 host": {
			`{"host":"::1","port":25,"from":"cscs@localhost"}`,
			settings{host: "::1", port: 25, security: "none", auth: "plain", timeout: DefaultTimeout},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, got, err := parseConfig([]byte(tc.json))
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			if got.from == nil {
				t.Fatal("from address not parsed")
			}
			got.from = nil
			if got != tc.want {
				t.Fatalf("settings = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := map[string]struct {
		json        string
		wantInError []string
	}{
		"not json":         {`{"host": "smtp.example.com", "password": "` + secret + `"`, []string{"smtp configuration"}},
		"two objects":      {`{"host":"h","from":"a@b"} {}`, []string{"exactly one object"}},
		"unknown setting":  {`{"host":"h","from":"a@b","pasword":"` + secret + `"}`, []string{`"pasword"`}},
		"wrong type":       {`{"host":"h","from":"a@b","port":"587"}`, []string{"port"}},
		"password number":  {`{"host":"h","from":"a@b","username":"u","password":12345}`, []string{"password"}},
		"missing host":     {`{"from":"a@b","username":"u","password":"` + secret + `","security":"tls"}`, []string{`"host" is required`}},
		"host with port":   {`{"host":"smtp.example.com:587","from":"a@b"}`, []string{`write the port in "port"`}},
		"host with space":  {`{"host":"smtp example","from":"a@b"}`, []string{"not a host name"}},
		"port too large":   {`{"host":"h","port":70000,"from":"a@b"}`, []string{"70000", "1..65535"}},
		"unknown security": {`{"host":"h","security":"ssl","from":"a@b"}`, []string{`"ssl"`, "starttls"}},
		"missing from":     {`{"host":"h"}`, []string{`"from" is required`}},
		"bad from":         {`{"host":"h","from":"cscs at example.com"}`, []string{`"cscs at example.com"`, "not a mail address"}},
		"password only":    {`{"host":"h","from":"a@b","security":"tls","password":"` + secret + `"}`, []string{`without "username"`}},
		"username only":    {`{"host":"h","from":"a@b","security":"tls","username":"u"}`, []string{`without "password"`}},
		"password in clear over the network": {
			`{"host":"smtp.example.com","port":25,"security":"none","username":"u","password":"` + secret + `","from":"a@b"}`,
			[]string{"clear text", "smtp.example.com", "starttls"},
		},
		"unknown auth":     {`{"host":"h","from":"a@b","security":"tls","username":"u","password":"` + secret + `","auth":"cram-md5"}`, []string{`"cram-md5"`}},
		"bad timeout":      {`{"host":"h","from":"a@b","timeout":"10"}`, []string{`"10"`, "duration"}},
		"negative timeout": {`{"host":"h","from":"a@b","timeout":"-1s"}`, []string{"positive"}},
		"every problem at once": {
			`{"port":-1,"security":"x","timeout":"soon","password":"` + secret + `"}`,
			[]string{`"host"`, `"port"`, `"security"`, `"from"`, `"password"`, `"timeout"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.json))
			if err == nil {
				t.Fatal("ParseConfig succeeded, want an error")
			}
			for _, want := range tc.wantInError {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %s", err, want)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error reveals the password: %q", err)
			}
		})
	}
}
