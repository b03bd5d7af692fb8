-- Books postings that wait instead of failing (issue #6 item 4), and deposits that post when the money
-- lands. See docs/architecture.md "Postings to the books".

-- A posting waiting for something outside Settle — today only 'invoice_in_books': the PSA's accounting
-- export has not put the invoice into the books yet. It stays 'pending' (it has not failed), backs off up
-- to daily (domain/posting-schedule.ts), is brought forward by the look-up for its invoice, and shows as
-- an exception meanwhile.
ALTER TABLE postings ADD COLUMN waiting_for text CHECK (waiting_for IN ('invoice_in_books'));
ALTER TABLE postings ADD COLUMN waiting_since timestamptz;
-- Bumped when a person retries a posting the vendor refused: a refused request wrote nothing, and
-- QuickBooks answers a repeated requestid with the original answer — the refusal — so the retry must be a
-- new request. An attempt whose answer was lost keeps its generation (and is replayed, not repeated).
ALTER TABLE postings ADD COLUMN request_generation int NOT NULL DEFAULT 0;
CREATE INDEX postings_waiting ON postings (tenant_id, waiting_for) WHERE waiting_for IS NOT NULL AND status = 'pending';

-- What a books deposit carries for each payment posting: linked to its books Payment, or (while the
-- payment is not in the books yet) a line to the clearing account, so the deposit equals the bank line the
-- day the money lands. When the payment is posted, the clearing line is moved onto it ('linked') and the
-- deposit total stays the same. Used for processor payouts; any deposit posting can use it.
CREATE TABLE deposit_lines (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  deposit_posting_id uuid NOT NULL REFERENCES postings(id),
  payment_posting_id uuid NOT NULL REFERENCES postings(id),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  currency text NOT NULL,
  status text NOT NULL CHECK (status IN ('linked', 'clearing')),
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  linked_at timestamptz,
  UNIQUE (deposit_posting_id, payment_posting_id)
);
CREATE INDEX deposit_lines_clearing ON deposit_lines (tenant_id, next_attempt_at) WHERE status = 'clearing';
CREATE INDEX deposit_lines_payment ON deposit_lines (payment_posting_id);

ALTER TABLE deposit_lines ENABLE ROW LEVEL SECURITY;
ALTER TABLE deposit_lines FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON deposit_lines USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());

-- A posting's exception (dedupe key 'posting:<id>': waiting for its invoice, or failed with its fix) closes
-- itself when the posting is posted, whichever path posted it (the flush, a retry, the look-up). Audited in
-- the same transaction, as the invoice trigger of 0006 does.
CREATE FUNCTION settle_resolve_on_posting_posted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status <> 'posted' OR OLD.status = 'posted' THEN
    RETURN NULL;
  END IF;
  WITH resolved AS (
    UPDATE exceptions e
       SET status = 'resolved', resolved_at = now(), updated_at = now(),
           resolved_by = 'system:posting-posted', resolution = 'posted'
     WHERE e.tenant_id = NEW.tenant_id AND e.status = 'open' AND e.dedupe_key = 'posting:' || NEW.id::text
    RETURNING e.id, e.kind
  )
  INSERT INTO audit_log (tenant_id, actor, action, subject_type, subject_id, detail)
  SELECT NEW.tenant_id, 'system:posting-posted', 'exception.resolved', 'exception', r.id::text,
         jsonb_build_object('kind', r.kind, 'resolution', 'posted', 'posting_id', NEW.id, 'remote_id', NEW.remote_id)
    FROM resolved r;
  RETURN NULL;
END $$;

CREATE TRIGGER postings_resolve_exceptions AFTER UPDATE OF status ON postings
  FOR EACH ROW EXECUTE FUNCTION settle_resolve_on_posting_posted();
