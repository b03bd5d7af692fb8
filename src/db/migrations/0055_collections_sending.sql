-- Collections Assist, sending (issue #12). Reminders are sent in set-based batches by one `collections-send`
-- job per workspace over a pooled SMTP connection (engine/collections-assist/send.ts) instead of one
-- send-email job and one SMTP connection each.
--
-- sending_until / sending_by: a sender's lease on a pending reminder. A sender claims a batch by setting both
-- (FOR UPDATE SKIP LOCKED, so two senders never hold the same row), renews the lease of the next few rows
-- just before it sends them — only where the lease is still its own and unexpired — and marks each row
-- 'sent' the moment the relay has accepted it. A sender that dies leaves its unsent rows leased; they are
-- claimed again once the lease is over, and a sender that was only stalled finds them no longer its own.
ALTER TABLE notifications ADD COLUMN sending_until timestamptz;
ALTER TABLE notifications ADD COLUMN sending_by uuid;
CREATE INDEX notifications_reminders_pending ON notifications (tenant_id, created_at)
  WHERE status = 'pending' AND kind = 'collection_reminder';

-- The statement of account as a PDF attached to the e-mail (generated when the e-mail is sent, once per
-- send, as of the day it was composed), not only linked. statement_client_id null: nothing attached.
ALTER TABLE notifications ADD COLUMN statement_client_id uuid REFERENCES clients(id);
ALTER TABLE notifications ADD COLUMN statement_as_of date;
CREATE INDEX collection_sends_notification ON collection_sends (notification_id) WHERE notification_id IS NOT NULL;
ALTER TABLE notifications ADD CONSTRAINT notifications_statement_pair
  CHECK ((statement_client_id IS NULL) = (statement_as_of IS NULL));

-- Per step: the statement is linked (attach_statement) and, with statement_attached, also in the e-mail as a
-- PDF attachment. Attached implies included.
ALTER TABLE collection_steps ADD COLUMN statement_attached boolean NOT NULL DEFAULT false;
ALTER TABLE collection_steps ADD CONSTRAINT collection_steps_attached_included CHECK (NOT statement_attached OR attach_statement);
