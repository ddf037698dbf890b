-- 0005_notifications_channel: how each notification is delivered. A core
-- with an HCL overlay routes a notification to one or more channels (its
-- notifier instances, or 'email', the core's mail settings); each channel
-- is a record of its own, with its own id. Rows written before this
-- migration were mail: they get 'email'.
-- Do not edit a released migration: add a new numbered file instead.

ALTER TABLE notifications ADD COLUMN channel TEXT NOT NULL DEFAULT 'email';
