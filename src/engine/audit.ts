// Every money movement and every setting change is written to the append-only audit log, in the same
// transaction as the change itself.
import type { Tx } from '../db/tenant.ts';

export type Actor = `user:${string}` | `api_key:${string}` | `client:${string}` | `system:${string}` | `vendor:${string}`;

export async function audit(
  tx: Tx,
  tenantId: string,
  actor: Actor,
  action: string,
  subject: { type: string; id: string | null },
  detail: Record<string, unknown> = {},
): Promise<void> {
  await tx
    .insertInto('audit_log')
    .values({
      tenant_id: tenantId,
      actor,
      action,
      subject_type: subject.type,
      subject_id: subject.id,
      detail: JSON.stringify(detail, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    })
    .execute();
}
