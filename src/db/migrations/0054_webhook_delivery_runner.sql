-- Outbound webhooks get a delivery runner of their own (engine/webhooks-out/runner.ts, issue #12) instead of
-- one graphile-worker job per subscription on the general workers: with 4 workers for 10 subscriptions'
-- queues, most of a burst's time from change to delivery was waiting for a worker (bench/webhook-fanout p99
-- 15–17 s), and a slow receiver held general workers that payments and postings need.
--
-- The event's transaction now wakes the runner with NOTIFY instead of adding a job. A notification is sent
-- at commit only (none for a change that rolled back), and PostgreSQL folds identical notifications of one
-- transaction into one, so a billing run of 500 invoices wakes each subscription once. The payload names the
-- workspace and the subscription ('<tenant> <subscription>'); the runner claims that subscription's due
-- deliveries itself. A notification lost (no runner listening, a dropped connection) costs nothing: the
-- deliveries are stored, and the runner looks for due ones when it (re)connects and every minute.
CREATE OR REPLACE FUNCTION settle_webhook_emit(p_tenant uuid, p_type text, p_subject_type text, p_subject_id text, p_data jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid;
  v_seq bigint;
  v_at timestamptz := clock_timestamp();
  v_sub uuid;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions s
                  WHERE s.tenant_id = p_tenant AND s.status = 'active' AND p_type = ANY (s.event_types)) THEN
    RETURN;
  END IF;
  v_id := gen_random_uuid();
  v_seq := nextval('webhook_event_seq');
  INSERT INTO webhook_events (id, tenant_id, seq, type, subject_type, subject_id, body, created_at)
  VALUES (v_id, p_tenant, v_seq, p_type, p_subject_type, p_subject_id,
          jsonb_build_object('id', 'evt_' || replace(v_id::text, '-', ''), 'type', p_type,
                             'created_at', to_char(v_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                             'sequence', v_seq, 'workspace_id', p_tenant, 'data', p_data)::text,
          v_at);
  FOR v_sub IN
    INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, seq, next_attempt_at, give_up_at)
    SELECT p_tenant, s.id, v_id, v_seq, v_at, v_at + interval '3 days'
      FROM webhook_subscriptions s
     WHERE s.tenant_id = p_tenant AND s.status = 'active' AND p_type = ANY (s.event_types)
    RETURNING subscription_id
  LOOP
    PERFORM pg_notify('settle_webhooks', p_tenant::text || ' ' || v_sub::text);
  END LOOP;
END $$;

-- The runner claims a subscription's deliveries that are due (next_attempt_at <= now), oldest due first, and
-- asks when the next one is due: both read this index. While a receiver is down its deliveries pile up not
-- yet due; the index by event order made every claim walk all of them.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (subscription_id, next_attempt_at, seq) WHERE status = 'pending';
