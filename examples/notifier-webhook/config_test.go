package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		config      string
		wantErr     string // "" for success
		wantTimeout time.Duration
		wantHeader  [2]string
		endpoint    string
	}{
		"url only takes the default timeout": {
			config: `{"url":"https://hooks.example.com/cscs"}`, wantTimeout: defaultTimeout, endpoint: "https://hooks.example.com",
		},
		"everything": {
			config:      `{"url":"http://user:pw@10.0.0.5:8080/x?y=z","timeout":"1m30s","headers":{"x-api-key":"k"}}`,
			wantTimeout: 90 * time.Second, wantHeader: [2]string{"X-Api-Key", "k"}, endpoint: "http://10.0.0.5:8080",
		},
		"empty":               {config: ``, wantErr: "no configuration"},
		"not an object":       {config: `["https://x"]`, wantErr: "not a JSON object"},
		"two objects":         {config: `{"url":"https://a"} {"url":"https://b"}`, wantErr: "data after its JSON object"},
		"misspelt key":        {config: `{"url":"https://a","timout":"5s"}`, wantErr: `unknown field "timout"`},
		"missing url":         {config: `{"timeout":"5s"}`, wantErr: `"url" is missing`},
		"ftp url":             {config: `{"url":"ftp://files.example.com/x"}`, wantErr: `scheme "ftp"`},
		"url without scheme":  {config: `{"url":"hooks.example.com/secret-path"}`, wantErr: "use http or https"},
		"url without host":    {config: `{"url":"https:///path"}`, wantErr: `"url" has no host`},
		"timeout not a time":  {config: `{"url":"https://a","timeout":"5"}`, wantErr: `"timeout" "5" is not a duration`},
		"timeout zero":        {config: `{"url":"https://a","timeout":"0s"}`, wantErr: "must be positive"},
		"timeout as a number": {config: `{"url":"https://a","timeout":5}`, wantErr: "not a JSON object"},
		"bad header name":     {config: `{"url":"https://a","headers":{"X Team":"ops"}}`, wantErr: `header name "X Team"`},
		"header set by client": {
			config: `{"url":"https://a","headers":{"content-length":"3"}}`, wantErr: `header "content-length" is set by the HTTP client`,
		},
		"header value with line break": {
			config: `{"url":"https://a","headers":{"Authorization":"Bearer secret-value\r\nX-Evil: 1"}}`, wantErr: `header "Authorization" has a control character`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := parseConfig([]byte(tc.config))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseConfig = %v, want an error containing %q", err, tc.wantErr)
				}
				for _, secret := range []string{"secret-value", "secret-path", "pw@"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows the secret %q", err, secret)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			if s.timeout != tc.wantTimeout {
				t.Errorf("timeout = %s, want %s", s.timeout, tc.wantTimeout)
			}
			if s.endpoint != tc.endpoint {
				t.Errorf("endpoint = %q, want %q", s.endpoint, tc.endpoint)
			}
			if name := tc.wantHeader[0]; name != "" && s.headers.Get(name) != tc.wantHeader[1] {
				t.Errorf("header %s = %q, want %q", name, s.headers.Get(name), tc.wantHeader[1])
			}
		})
	}
}
