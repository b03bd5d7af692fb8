-- Needs attention (issue #9): a person who marks an exception resolved says what they did, and one who
-- dismisses it says why; both are kept on the row (with resolved_by / resolved_at, already there) so the
-- queue's "resolved" view and GET /api/v1/exceptions show them, besides the audit log.
ALTER TABLE exceptions ADD COLUMN resolution_note text;
