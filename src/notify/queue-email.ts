// Queue an email in the caller's transaction (the outbox row and its send job commit with the event that
// caused them). The same idempotency key twice queues one email.
import type { Tx } from '../db/tenant.ts';
import { enqueue } from '../engine/enqueue.ts';

export interface EmailToQueue {
  readonly kind: string; // 'pre_debit_notice' | 'payment_failed' | 'payment_receipt' | 'ach_returned' | …
  readonly clientId: string | null;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  readonly idempotencyKey: string;
}

export async function queueEmail(tx: Tx, tenantId: string, email: EmailToQueue): Promise<string | null> {
  const row = await tx
    .insertInto('notifications')
    .values({
      tenant_id: tenantId,
      kind: email.kind,
      client_id: email.clientId,
      to_email: email.to,
      subject: email.subject,
      body_text: email.text,
      body_html: email.html ?? null,
      idempotency_key: email.idempotencyKey,
    })
    .onConflict((oc) => oc.columns(['tenant_id', 'idempotency_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!row) return null;
  await enqueue(tx, 'send-email', { tenantId, notificationId: row.id }, { jobKey: `email:${row.id}`, maxAttempts: 10 });
  return row.id;
}
