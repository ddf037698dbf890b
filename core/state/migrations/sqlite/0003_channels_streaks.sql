-- Notification routing (HCL overlay): each outbox row goes through one
-- channel, a notifier instance by name; 'email' is the SMTP sender of
-- email_config.json, the channel of every row written before routing.
ALTER TABLE notifications ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
CREATE INDEX notifications_channel_due ON notifications (channel, status, next_attempt_at);

-- Rules that fire only after holding N rounds in a row ("for" in the
-- overlay) count the rounds here; 0 once the rule fires or stops holding.
ALTER TABLE alert_state ADD COLUMN streak INTEGER NOT NULL DEFAULT 0;
