// What happens when writing a posting to a vendor fails: the attempt is counted and the error kept on the
// posting; a failure that may succeed later is retried (the job throws RetryLater and graphile-worker backs
// off), one that will not (an auth or validation failure after the retries) marks the posting failed, is
// audited, and opens an exception with its fix (posting-exceptions.ts) that closes when the posting is
// posted — after a retry through POST /api/v1/postings/:id/retry.
import { withTenant } from '../db/tenant.ts';
import { retryDecision, VendorError } from '../connectors/http.ts';
import { audit, type Actor } from './audit.ts';
import type { EngineContext } from './context.ts';
import { tellAboutPosting } from './posting-exceptions.ts';

export class RetryLater extends Error {
  override readonly name = 'RetryLater';
}

const MAX_ATTEMPTS = 12;
/**
 * From this failed attempt on a person is told (an exception that closes itself when the posting is posted):
 * the job's backoff (e^attempt seconds) reaches attempt 12 only after hours, and a PSA outage that long
 * must not stay invisible. With e^1 + e^2 s between the first three attempts, that is about half a minute.
 */
const TELL_AFTER = 3;

export async function recordPostingFailure(
  ctx: EngineContext,
  tenantId: string,
  input: { postingId: string; attempts: number; vendor: string; actor: Actor; error: unknown },
): Promise<string> {
  const { error } = input;
  const decision = retryDecision(error, input.attempts + 1, MAX_ATTEMPTS);
  const message = (error as Error).message;
  const nextAttemptAt = new Date(ctx.now().getTime() + decision.delayMs);
  await withTenant(ctx.db, tenantId, async (tx) => {
    await tx
      .updateTable('postings')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        last_error: message.slice(0, 2000),
        status: decision.retry ? 'pending' : 'failed',
        next_attempt_at: nextAttemptAt,
      }))
      .where('id', '=', input.postingId)
      .execute();
    if (decision.retry && input.attempts + 1 >= TELL_AFTER)
      await tellAboutPosting(tx, tenantId, input.actor, input.postingId, { kind: 'failing', error: message, nextAttemptAt, attempts: input.attempts + 1 });
    if (!decision.retry) {
      ctx.log.warn({ tenantId, postingId: input.postingId, vendor: input.vendor, error: message }, 'posting refused; an exception asks a person to act');
      await audit(
        tx,
        tenantId,
        input.actor,
        'posting.failed',
        { type: 'posting', id: input.postingId },
        { vendor: input.vendor, reason: decision.reason, error: message },
      );
      await tellAboutPosting(tx, tenantId, input.actor, input.postingId, { kind: 'failed', error: message });
    }
  });
  if (decision.retry) throw new RetryLater(`${input.vendor}: ${decision.reason}; retrying`);
  if (!(error instanceof VendorError)) throw error;
  return `failed: ${decision.reason}`;
}
