package state

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cscs-dev/cscs/core/alert"
)

func TestChannels(t *testing.T) {
	db := openTest(t, Options{})
	ctx := context.Background()
	due := time.Date(2026, 2, 3, 4, 5, 7, 0, time.UTC)
	mail := testNotification("mail")
	hook := testNotification("hook")
	hook.To = nil // a webhook needs no recipient
	if _, err := db.InsertNotification(ctx, mail, due); err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertNotificationOn(ctx, "chat", hook, due); err != nil {
		t.Fatalf("a notification without recipient on a notifier channel: %v", err)
	}
	noTo := testNotification("bad")
	noTo.To = nil
	if _, err := db.InsertNotification(ctx, noTo, due); err == nil {
		t.Error("a mail without recipient was accepted")
	}
	chans, err := db.WaitingChannels(ctx)
	if err != nil || !slices.Equal(chans, []string{"chat", "email"}) {
		t.Errorf("WaitingChannels = %v, %v", chans, err)
	}
	tests := []struct {
		channel string
		want    []string
	}{
		{"email", []string{"mail"}},
		{"chat", []string{"hook"}},
		{"", []string{"hook", "mail"}},
		{"nowhere", nil},
	}
	for _, tt := range tests {
		ids, err := db.DueNotificationsOn(ctx, tt.channel, due, 10)
		slices.Sort(ids)
		if err != nil || !slices.Equal(ids, tt.want) {
			t.Errorf("DueNotificationsOn(%q) = %v, %v; want %v", tt.channel, ids, err, tt.want)
		}
	}
	got, err := db.Notification(ctx, "hook")
	if err != nil || got.Channel != "chat" {
		t.Errorf("Notification(hook).Channel = %q, %v", got.Channel, err)
	}
}

func TestAlertStreakKept(t *testing.T) {
	db := openTest(t, Options{})
	ctx := context.Background()
	want := alert.State{Since: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC), LastValue: 93, Streak: 2}
	if err := db.Put(ctx, "10.0.0.1", 22, "mem#1", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := db.Get(ctx, "10.0.0.1", 22, "mem#1")
	if err != nil || !ok || got.Streak != 2 || !got.Since.Equal(want.Since) {
		t.Errorf("Get = %+v, %v, %v; want streak 2", got, ok, err)
	}
}
