-- Notification routing: each outbox row goes through one channel, a
-- notifier instance by name; 'email' is the SMTP sender of
-- email_config.json (see migrations/sqlite/0003_channels_streaks.sql).
ALTER TABLE notifications ADD COLUMN channel TEXT COLLATE "C" NOT NULL DEFAULT 'email';
CREATE INDEX notifications_channel_due ON notifications (channel, status, next_attempt_at);

-- Rules that fire only after holding N rounds in a row count the rounds
-- here; 0 once the rule fires or stops holding.
ALTER TABLE alert_state ADD COLUMN streak INTEGER NOT NULL DEFAULT 0;
