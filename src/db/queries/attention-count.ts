// The number on the Needs-attention badge in the staff navigation: open exceptions of the workspace
// (src/engine/exceptions.ts), the same rows GET /api/v1/exceptions lists by default.
import type { Tx } from '../tenant.ts';

export async function openAttentionCount(tx: Tx): Promise<number> {
  const r = await tx
    .selectFrom('exceptions')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'open')
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}
