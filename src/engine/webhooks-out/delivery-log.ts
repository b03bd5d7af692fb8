// The delivery log as the API and the staff page show it: one row per delivery (newest event first) with its
// last answer, and each attempt of one delivery.
import type { Tx } from '../../db/tenant.ts';

export interface DeliveryRow {
  readonly id: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly sequence: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly next_attempt_at: string | null;
  readonly last_attempt_at: string | null;
  readonly last_status: number | null;
  readonly last_error: string | null;
  readonly last_response_body: string | null;
  readonly delivered_at: string | null;
}

const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);

export async function listDeliveries(
  tx: Tx,
  subscriptionId: string,
  opts: { limit: number; status?: 'pending' | 'delivered' | 'failed' },
): Promise<DeliveryRow[]> {
  let q = tx
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .select([
      'd.id',
      'd.event_id',
      'e.type',
      'd.seq',
      'd.status',
      'd.attempts',
      'd.next_attempt_at',
      'd.last_attempt_at',
      'd.last_status',
      'd.last_error',
      'd.delivered_at',
      (eb) =>
        eb
          .selectFrom('webhook_attempts as a')
          .select('a.response_body')
          .whereRef('a.delivery_id', '=', 'd.id')
          .orderBy('a.attempt_no', 'desc')
          .limit(1)
          .as('last_body'),
    ])
    .where('d.subscription_id', '=', subscriptionId)
    .orderBy('d.seq', 'desc')
    .limit(opts.limit);
  if (opts.status) q = q.where('d.status', '=', opts.status);
  return (await q.execute()).map((r) => ({
    id: r.id,
    event_id: `evt_${r.event_id.replaceAll('-', '')}`,
    event_type: r.type,
    sequence: String(r.seq),
    status: r.status,
    attempts: r.attempts,
    next_attempt_at: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    last_attempt_at: iso(r.last_attempt_at),
    last_status: r.last_status,
    last_error: r.last_error,
    last_response_body: r.last_body ?? null,
    delivered_at: iso(r.delivered_at),
  }));
}
