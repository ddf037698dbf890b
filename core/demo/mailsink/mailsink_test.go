package mailsink

import (
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSinkStoresMail(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	s, err := Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msg := "Subject: hello\r\n\r\nbody\r\n"
	if err := smtp.SendMail(s.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if s.Count() != 1 {
		t.Fatalf("count %d", s.Count())
	}
	got, err := os.ReadFile(filepath.Join(dir, "001.eml"))
	if err != nil || !strings.Contains(string(got), "Subject: hello") {
		t.Fatalf("stored %q, %v", got, err)
	}
}
