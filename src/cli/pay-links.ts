// `settle pay-links write-open --workspace SLUG`: a link for every open invoice of the connected PSA that has
// none, each written into the PSA by its durable job (engine/pay-links-open.ts; the same function as the
// staff app's "Write pay links for all open invoices"). Prints how many were queued; 0 on a second run.
import type { Db } from '../db/pool.ts';
import { withTenant } from '../db/tenant.ts';
import { UseCaseError } from '../engine/context.ts';
import { openPayLinksSentence, queueOpenInvoicePayLinks } from '../engine/pay-links-open.ts';
import { requireFlag, UsageError, type Args } from './args.ts';
import { tenantIdBySlug } from './workspace.ts';

export const PAY_LINKS_USAGE = 'usage: settle pay-links write-open --workspace SLUG';

export async function runPayLinksCommand(db: Db, rest: readonly string[], args: Args, say: (s: string) => void): Promise<number> {
  if (rest[0] !== 'write-open') throw new UsageError(PAY_LINKS_USAGE);
  const tenantId = await tenantIdBySlug(db, requireFlag(args, 'workspace', 'workspace slug'));
  try {
    const r = await withTenant(db, tenantId, (tx) => queueOpenInvoicePayLinks(tx, tenantId, 'system:cli'));
    say(openPayLinksSentence(r));
    return 0;
  } catch (e) {
    if (!(e instanceof UseCaseError)) throw e;
    say(e.message);
    return 1;
  }
}
