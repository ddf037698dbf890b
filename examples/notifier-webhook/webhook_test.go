package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/sdk/notifier"
	"github.com/cscs-dev/cscs/sdk/sdktest"
)

// Secrets the tests put in the URL and a header; no error may show them.
const (
	pathSecret   = "T0KEN-in-path"
	querySecret  = "t0ken-in-query"
	headerSecret = "Bearer hdr-s3cret"
)

// received is what the test webhook saw of one request.
type received struct {
	method string
	path   string
	query  string
	header http.Header
	body   []byte
}

// newWebhook starts a loopback HTTP server that records each request and
// then answers with answer. It returns the server's base URL and the
// recorded requests.
func newWebhook(t *testing.T, answer http.HandlerFunc) (string, <-chan received) {
	t.Helper()
	got := make(chan received, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(), body: body}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

// answerWith answers every request with code and body.
func answerWith(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// configJSON is a configuration for url with the test's secret header.
func configJSON(t *testing.T, url, timeout string) []byte {
	t.Helper()
	cfg := Config{URL: url, Timeout: timeout, Headers: map[string]string{"Authorization": headerSecret, "X-Team": "ops"}}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func testNotification() notifier.Notification {
	return notifier.Notification{
		ID:        "n-42@cscs.invalid",
		Kind:      "alert",
		To:        []string{"ops@example.com", "oncall@example.com"},
		Subject:   "[cscs] memory above 50% on 192.0.2.10",
		Body:      "host 192.0.2.10\nmetric memory.used_percent = 73.5 (limit 50%)\n",
		Host:      "192.0.2.10",
		CreatedAt: time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC),
	}
}

// configured returns the notifier, seen through the SDK's gRPC client,
// configured with config.
func configured(t *testing.T, config []byte) notifier.Notifier {
	t.Helper()
	n := sdktest.Notifier(t, &Notifier{})
	if err := n.Configure(t.Context(), config); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return n
}

func TestSendPostsNotificationAsJSON(t *testing.T) {
	t.Parallel()
	base, got := newWebhook(t, answerWith(http.StatusNoContent, ""))
	n := configured(t, configJSON(t, base+"/hooks/"+pathSecret+"?token="+querySecret, "5s"))
	note := testNotification()

	if err := n.Send(t.Context(), note); err != nil {
		t.Fatalf("Send: %v", err)
	}
	req := <-got
	checkRequest(t, req, note)
}

// checkRequest checks that req is the POST of note with the test's
// configuration.
func checkRequest(t *testing.T, req received, note notifier.Notification) {
	t.Helper()
	if req.method != http.MethodPost {
		t.Errorf("method = %s, want POST", req.method)
	}
	if want := "/hooks/" + pathSecret; req.path != want {
		t.Errorf("path = %q, want %q", req.path, want)
	}
	if want := "token=" + querySecret; req.query != want {
		t.Errorf("query = %q, want %q", req.query, want)
	}
	headers := map[string]string{
		"Content-Type":    "application/json",
		"Authorization":   headerSecret,
		"X-Team":          "ops",
		"Idempotency-Key": note.ID,
		"User-Agent":      "cscs-notifier-webhook/" + version,
	}
	for name, want := range headers {
		if got := req.header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}

	dec := json.NewDecoder(bytes.NewReader(req.body))
	dec.DisallowUnknownFields()
	var p Payload
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("body %s is not a Payload: %v", req.body, err)
	}
	want := Payload{ID: note.ID, Kind: note.Kind, To: note.To, Subject: note.Subject, Body: note.Body, Host: note.Host, CreatedAt: note.CreatedAt}
	if p.ID != want.ID || p.Kind != want.Kind || p.Subject != want.Subject || p.Body != want.Body || p.Host != want.Host ||
		!p.CreatedAt.Equal(want.CreatedAt) || strings.Join(p.To, ",") != strings.Join(want.To, ",") {
		t.Errorf("payload = %+v, want %+v", p, want)
	}
	// The documented field names are a contract with the receiver.
	var fields map[string]any
	if err := json.Unmarshal(req.body, &fields); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"id", "kind", "to", "subject", "body", "host", "created_at"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("body has no %q field: %s", name, req.body)
		}
	}
	if fields["created_at"] != "2026-03-04T05:06:07.000000008Z" {
		t.Errorf("created_at = %v, want RFC 3339 UTC with nanoseconds", fields["created_at"])
	}
}

func TestSendEmptyRecipientsIsEmptyList(t *testing.T) {
	t.Parallel()
	base, got := newWebhook(t, answerWith(http.StatusOK, "ok"))
	n := configured(t, configJSON(t, base, ""))
	if err := n.Send(t.Context(), notifier.Notification{ID: "n-1", Kind: "test"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	body := string((<-got).body)
	for _, want := range []string{`"to":[]`, `"host":""`} {
		if !strings.Contains(body, want) {
			t.Errorf("body %s does not contain %s", body, want)
		}
	}
	if strings.Contains(body, "created_at") {
		t.Errorf("body %s has created_at for a notification without a time", body)
	}
}

// refusedURL returns a loopback URL nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

func TestSendClassifiesFailures(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		answer    http.HandlerFunc // nil: nothing listens
		timeout   string
		wantErr   bool
		temporary bool
		wantText  []string
	}{
		"200 is delivered": {answer: answerWith(http.StatusOK, "")},
		"202 is delivered": {answer: answerWith(http.StatusAccepted, "queued")},
		"500 is temporary": {answer: answerWith(http.StatusInternalServerError, "boom"), wantErr: true, temporary: true,
			wantText: []string{"500 Internal Server Error: boom"}},
		"502 is temporary": {answer: answerWith(http.StatusBadGateway, ""), wantErr: true, temporary: true, wantText: []string{"502 Bad Gateway"}},
		"503 is temporary": {answer: answerWith(http.StatusServiceUnavailable, ""), wantErr: true, temporary: true, wantText: []string{"503"}},
		"429 is temporary": {answer: answerWith(http.StatusTooManyRequests, "slow down"), wantErr: true, temporary: true, wantText: []string{"429 Too Many Requests"}},
		"400 is permanent": {answer: answerWith(http.StatusBadRequest, "{\"error\":\n\"missing field text\"}"), wantErr: true,
			wantText: []string{`400 Bad Request: {"error": "missing field text"}`}},
		"401 is permanent": {answer: answerWith(http.StatusUnauthorized, ""), wantErr: true, wantText: []string{"401", `check the credentials in "headers"`}},
		"404 is permanent": {answer: answerWith(http.StatusNotFound, ""), wantErr: true, wantText: []string{"404 Not Found", `check the path in "url"`}},
		"410 is permanent": {answer: answerWith(http.StatusGone, ""), wantErr: true, wantText: []string{"410 Gone"}},
		"redirect is not followed": {
			answer: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			},
			wantErr: true, wantText: []string{"302 Found", "redirects"},
		},
		"long answer body is clipped": {answer: answerWith(http.StatusBadRequest, strings.Repeat("x", 5000)), wantErr: true,
			wantText: []string{strings.Repeat("x", maxSnippet) + "…"}},
		"no answer in time is temporary": {
			answer: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			timeout: "150ms", wantErr: true, temporary: true, wantText: []string{"no answer within 150ms"},
		},
		"connection closed without answer is temporary": {
			answer: func(w http.ResponseWriter, _ *http.Request) {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					_ = conn.Close()
				}
			},
			wantErr: true, temporary: true, wantText: []string{"EOF"},
		},
		"connection refused is temporary": {wantErr: true, temporary: true, wantText: []string{"refused"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			base := refusedURL(t)
			if tc.answer != nil {
				base, _ = newWebhook(t, tc.answer)
			}
			n := configured(t, configJSON(t, base+"/hooks/"+pathSecret+"?token="+querySecret, tc.timeout))

			err := n.Send(t.Context(), testNotification())
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send error = %v, want error: %t", err, tc.wantErr)
			}
			if err == nil {
				return
			}
			if got := notifier.IsTemporary(err); got != tc.temporary {
				t.Errorf("IsTemporary(%v) = %t, want %t", err, got, tc.temporary)
			}
			for _, want := range append(tc.wantText, "n-42@cscs.invalid", "http://127.0.0.1:") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			for _, secret := range []string{pathSecret, querySecret, "hdr-s3cret"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows the secret %q", err, secret)
				}
			}
		})
	}
}

func TestSendStopsWhenCallerGivesUp(t *testing.T) {
	t.Parallel()
	base, _ := newWebhook(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	n := &Notifier{}
	if err := n.Configure(t.Context(), configJSON(t, base, "10s")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := n.Send(ctx, testNotification())
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Send took %s after its context ended", elapsed)
	}
	if !notifier.IsTemporary(err) || !strings.Contains(fmt.Sprint(err), "stopped before an answer") {
		t.Errorf("Send = %v, want a temporary error saying it stopped", err)
	}
}

func TestSendBeforeConfigure(t *testing.T) {
	t.Parallel()
	err := sdktest.Notifier(t, &Notifier{}).Send(t.Context(), testNotification())
	if err == nil || !strings.Contains(err.Error(), "before Configure") {
		t.Errorf("Send before Configure = %v, want an error saying so", err)
	}
	if notifier.IsTemporary(err) {
		t.Errorf("Send before Configure is temporary; retrying cannot help")
	}
}

func TestConformanceInProcess(t *testing.T) {
	t.Parallel()
	base, got := newWebhook(t, answerWith(http.StatusOK, ""))
	sdktest.NotifierConformance(t, sdktest.Notifier(t, &Notifier{}), configJSON(t, base, ""))
	// The conformance check sends one notification twice (a retry).
	first, second := <-got, <-got
	if first.header.Get("Idempotency-Key") == "" || first.header.Get("Idempotency-Key") != second.header.Get("Idempotency-Key") {
		t.Errorf("a retry carries Idempotency-Key %q, the first try %q; want the same notification ID",
			second.header.Get("Idempotency-Key"), first.header.Get("Idempotency-Key"))
	}
}
