package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/cscs-dev/cscs/sdk/notifier"
)

// Name is the notifier's name in configuration and `cscs plugins list`.
const Name = "webhook"

// version is reported by Describe and in the User-Agent header.
const version = "0.1.0"

// Notifier POSTs each notification as JSON to the configured URL.
type Notifier struct {
	mu     sync.Mutex
	cfg    *settings
	client *http.Client
}

var _ notifier.Notifier = (*Notifier)(nil)

// Payload is the JSON document POSTed for one notification.
type Payload struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
	// Host is the client the notification is about; "" for none.
	Host      string    `json:"host"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Describe names the notifier and declares its configuration; it works
// before Configure.
func (n *Notifier) Describe(context.Context) (notifier.Description, error) {
	return notifier.Description{Name: Name, Version: version, Config: configSchema()}, nil
}

// Configure checks config (see Config) and keeps it for the next Sends.
func (n *Notifier) Configure(_ context.Context, config []byte) error {
	s, err := parseConfig(config)
	if err != nil {
		return err
	}
	client := &http.Client{
		// A redirected POST turns into a GET on most status codes; refuse
		// to follow, and say so (statusError).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cfg, n.client = &s, client
	return nil
}

// Send POSTs note and waits for the answer, at most the configured
// timeout. A 2xx answer is success. Failures that may pass (no connection,
// no answer in time, a 5xx, 408, 425 or 429 answer) are
// notifier.Temporary; any other answer is permanent. Errors show the URL
// as scheme://host only and never show header values.
func (n *Notifier) Send(ctx context.Context, note notifier.Notification) error {
	n.mu.Lock()
	cfg, client := n.cfg, n.client
	n.mu.Unlock()
	if cfg == nil {
		return errors.New("webhook notifier: Send before Configure; configure the notifier with its URL first")
	}
	body, err := json.Marshal(newPayload(note))
	if err != nil {
		return fmt.Errorf("webhook notifier: encode notification %s: %w", note.ID, err)
	}

	sendCtx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(sendCtx, http.MethodPost, cfg.url.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook notifier: build request for %s: %w", cfg.endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cscs-notifier-webhook/"+version)
	if note.ID != "" {
		req.Header.Set("Idempotency-Key", note.ID)
	}
	// Configured headers come last: the operator may override the above.
	for name, values := range cfg.headers {
		req.Header[name] = values
	}

	resp, err := client.Do(req)
	if err != nil {
		return transportError(ctx, *cfg, note.ID, err)
	}
	defer func() { _ = resp.Body.Close() }()
	snippet := readSnippet(resp.Body)
	// Read a little more so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return statusError(*cfg, note.ID, resp, snippet)
}

// newPayload is what the webhook receives for n.
func newPayload(n notifier.Notification) Payload {
	to := n.To
	if to == nil {
		to = []string{}
	}
	return Payload{
		ID:        n.ID,
		Kind:      n.Kind,
		To:        to,
		Subject:   n.Subject,
		Body:      n.Body,
		Host:      n.Host,
		CreatedAt: n.CreatedAt.UTC(),
	}
}
