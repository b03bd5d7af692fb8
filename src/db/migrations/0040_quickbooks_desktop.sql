-- QuickBooks Desktop as the books (issue #11). QuickBooks Desktop cannot be called: the MSP's QuickBooks Web
-- Connector calls Settle (the SOAP service of QBWebConnectorSvc.wsdl) on the schedule of the .qwc file and asks
-- for work one qbXML document at a time. So every write Settle wants in the books is first a row here — the
-- durable queue of qbXML work per workspace — and the connector answers the posting engine from that row:
-- queued / in flight ⇒ not yet (retried), done ⇒ posted with QuickBooks' TxnID, refused ⇒ a person told.
CREATE TABLE qbd_work (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  -- Our idempotency key (the posting's): one row per posting however often the engine asks.
  key text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('payment', 'deposit', 'reversal', 'invoice-lookup')),
  -- What to write, as the engine gave it (amounts as minor-unit strings); the qbXML is built when sent,
  -- from this and what earlier steps learned (context), so a re-send is always built the same way.
  intent jsonb NOT NULL,
  -- One more each time a person retries after QuickBooks refused the request (PostPaymentInput.requestGeneration).
  generation int NOT NULL DEFAULT 0,
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'in_flight', 'waiting_invoice', 'done', 'refused')),
  -- The step in flight (lookup: find the invoice; check: look for an earlier write; add: write).
  step text CHECK (step IN ('lookup', 'check', 'add')),
  ticket text,
  -- How often the add was handed to the Web Connector: after the first, every send is preceded by a check
  -- (qbXML has no idempotency and cannot filter on ExternalGUID: RefNumber / customer / date / amount / memo marker).
  adds_sent int NOT NULL DEFAULT 0,
  context jsonb NOT NULL DEFAULT '{}',
  remote_id text,
  status_code int,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  done_at timestamptz,
  UNIQUE (tenant_id, key)
);
CREATE INDEX qbd_work_open ON qbd_work (tenant_id, id) WHERE state IN ('queued', 'in_flight', 'waiting_invoice');

-- Settle's copy of the company file's invoices, from every InvoiceQuery answer (by number, or by modified date).
CREATE TABLE qbd_invoices (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  txn_id text NOT NULL,
  ref_number text NOT NULL,
  customer_list_id text NOT NULL,
  customer_name text,
  total_minor bigint NOT NULL,
  balance_minor bigint NOT NULL,
  currency text NOT NULL,
  time_modified text,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, txn_id)
);
CREATE INDEX qbd_invoices_ref ON qbd_invoices (tenant_id, ref_number);

-- Web Connector sessions: a ticket is looked up before the workspace is known (every SOAP call but
-- authenticate carries only the ticket), so this table has no row-level security; the ticket is 32 random
-- bytes and names only the workspace.
CREATE TABLE qbd_sessions (
  ticket text PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  company_file text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  last_error text
);

ALTER TABLE qbd_work ENABLE ROW LEVEL SECURITY;
ALTER TABLE qbd_work FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON qbd_work USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
ALTER TABLE qbd_invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE qbd_invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON qbd_invoices USING (tenant_id = settle_current_tenant())
  WITH CHECK (tenant_id = settle_current_tenant());
