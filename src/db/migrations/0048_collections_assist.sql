-- Collections Assist (issue #12): reminder sequences per workspace, their steps relative to the due date,
-- which clients or segments follow which sequence, the holds that stop chasing (a promise to pay, a dispute,
-- a pause by staff), and the log of what was sent. A send is keyed by (invoice, step): a retried run or two
-- workers at once never remind an invoice of the same step twice (engine/collections-assist/run.ts).
-- Every table carries tenant_id under row-level security.

-- The workspace's switch and sending window. Off until staff turn it on (an upgrade never starts e-mailing
-- an MSP's clients by itself). Hours are in the workspace's timezone (tenants.settings.timezone).
CREATE TABLE collection_settings (
  tenant_id uuid PRIMARY KEY REFERENCES tenants(id),
  enabled boolean NOT NULL DEFAULT false,
  business_days_only boolean NOT NULL DEFAULT true,
  -- reminders go out between send_from (inclusive) and send_until (exclusive), local hours
  send_from smallint NOT NULL DEFAULT 8 CHECK (send_from BETWEEN 0 AND 23),
  send_until smallint NOT NULL DEFAULT 18 CHECK (send_until BETWEEN 1 AND 24),
  updated_by text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (send_from < send_until)
);

CREATE TABLE collection_sequences (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
  -- the sequence of every client with no assignment of its own or of its segment
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);
CREATE UNIQUE INDEX collection_sequences_one_default ON collection_sequences (tenant_id) WHERE is_default;

-- Odoo's follow-up level: N days relative to the due date (negative before it), each an e-mail from its own
-- subject and body (notify/templates syntax), optionally an item for staff, a PSA note, the statement link.
CREATE TABLE collection_steps (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  sequence_id uuid NOT NULL REFERENCES collection_sequences(id) ON DELETE CASCADE,
  key text NOT NULL CHECK (key ~ '^[a-z0-9_]{1,40}$'),
  offset_days int NOT NULL CHECK (offset_days BETWEEN -60 AND 365),
  tone text NOT NULL CHECK (tone IN ('friendly', 'neutral', 'firm', 'formal')),
  subject text NOT NULL,
  body text NOT NULL,
  attach_statement boolean NOT NULL DEFAULT false,
  notify_staff boolean NOT NULL DEFAULT false,
  psa_note boolean NOT NULL DEFAULT false,
  -- the final step: hands the invoice to staff (a needs-attention item) and ends the sequence for it
  escalate boolean NOT NULL DEFAULT false,
  UNIQUE (sequence_id, key),
  UNIQUE (sequence_id, offset_days)
);

-- Which sequence a client follows: its own assignment, else its segment's (billing region 'region:NY',
-- then country 'country:US'), else the default sequence.
CREATE TABLE collection_assignments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  sequence_id uuid NOT NULL REFERENCES collection_sequences(id) ON DELETE CASCADE,
  client_id uuid REFERENCES clients(id),
  segment text CHECK (segment ~ '^(region|country):[A-Z0-9]{1,3}$'),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((client_id IS NULL) <> (segment IS NULL))
);
CREATE UNIQUE INDEX collection_assignments_client ON collection_assignments (tenant_id, client_id) WHERE client_id IS NOT NULL;
CREATE UNIQUE INDEX collection_assignments_segment ON collection_assignments (tenant_id, segment) WHERE segment IS NOT NULL;

-- What stops chasing besides payment, autopay, a plan, money in flight and a chargeback (those are read from
-- their own tables): a promise to pay by a date (chasing resumes the day after it, unpaid), a dispute of the
-- invoice, a pause by staff. invoice_id null = every invoice of the client. Released, never deleted.
CREATE TABLE collection_holds (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  invoice_id uuid REFERENCES invoices(id),
  kind text NOT NULL CHECK (kind IN ('promise', 'dispute', 'pause')),
  until_on date,
  note text NOT NULL DEFAULT '',
  source text NOT NULL CHECK (source IN ('portal', 'staff')),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz,
  released_by text,
  -- 'kept' (paid), 'missed' (the date passed unpaid), 'resolved' / 'resumed' (staff)
  release_reason text,
  CHECK ((kind = 'promise') = (until_on IS NOT NULL))
);
CREATE INDEX collection_holds_open ON collection_holds (tenant_id, client_id) WHERE released_at IS NULL;

-- The log of reminders: one row per (invoice, step), written in the transaction that queues the e-mail.
-- open_minor is what the invoice owed when reminded: the results page's recovered amount starts from it.
CREATE TABLE collection_sends (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  invoice_id uuid NOT NULL REFERENCES invoices(id),
  client_id uuid NOT NULL REFERENCES clients(id),
  sequence_id uuid NOT NULL REFERENCES collection_sequences(id) ON DELETE CASCADE,
  -- null once staff remove the step: the row stays (its key and offset), so history and order are kept
  step_id uuid REFERENCES collection_steps(id) ON DELETE SET NULL,
  step_key text NOT NULL,
  offset_days int NOT NULL,
  currency text NOT NULL,
  open_minor bigint NOT NULL CHECK (open_minor > 0),
  sent_on date NOT NULL,
  sent_at timestamptz NOT NULL,
  -- claimed by the run's one set-based statement, then composed into the client's e-mail ('queued', with its
  -- notification) in small transactions; a claim its day passed without an e-mail is dropped by the next run
  -- (the step is then due again, judged afresh), one whose invoice closed meanwhile is 'cancelled'
  outcome text NOT NULL DEFAULT 'claimed' CHECK (outcome IN ('claimed', 'queued', 'cancelled')),
  notification_id uuid,
  exception_id uuid,
  psa_note_id text,
  UNIQUE (invoice_id, step_id)
);
CREATE INDEX collection_sends_invoice ON collection_sends (tenant_id, invoice_id, offset_days);
CREATE INDEX collection_sends_step ON collection_sends (tenant_id, sequence_id, step_id);
CREATE INDEX collection_sends_claimed ON collection_sends (tenant_id, client_id) WHERE outcome = 'claimed';

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['collection_settings', 'collection_sequences', 'collection_steps', 'collection_assignments',
    'collection_holds', 'collection_sends']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = settle_current_tenant()) '
                   'WITH CHECK (tenant_id = settle_current_tenant())', t);
  END LOOP;
END $$;
