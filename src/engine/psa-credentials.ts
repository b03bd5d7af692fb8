// The PSA refusing Settle's credentials (a rotated HaloPSA client secret, a deactivated Autotask API user, a
// ConnectWise key removed) stops every poll and write-back. A poll answered "refused" opens one exception that
// says where the credentials are kept at the vendor and how to enter them again; the next poll that gets
// through closes it. Other failures (outage, 429) are retried by the job and need no one.
import { withTenant } from '../db/tenant.ts';
import { VendorError } from '../connectors/http.ts';
import type { EngineContext } from './context.ts';
import { raiseException } from './exceptions.ts';
import { audit } from './audit.ts';
import { vendorName } from './posting-exceptions.ts';

const KEY = 'psa-credentials';
const ACTOR = 'system:sync-psa';

const WHERE: Readonly<Record<string, string>> = {
  halopsa: "the API application's client ID and secret (HaloPSA: Configuration → Integrations → HaloPSA API → View Applications)",
  autotask: "the API user's username, secret and integration code (Autotask: Admin → Resources (Users) → the API user)",
  connectwise: "the API member's public and private keys and the company ID (ConnectWise: System → Members → API Members)",
};

export async function tellIfCredentialsRefused(ctx: EngineContext, tenantId: string, vendor: string, e: unknown): Promise<void> {
  if (!(e instanceof VendorError) || e.kind !== 'auth') return;
  const name = vendorName(vendor);
  await withTenant(ctx.db, tenantId, (tx) =>
    raiseException(tx, tenantId, ACTOR, {
      kind: 'psa_credentials_refused',
      dedupeKey: KEY,
      clientId: null,
      invoiceIds: [],
      paymentId: null,
      title: `${name} refuses Settle's credentials`,
      detail:
        `${name} answered: ${e.message}. Until the credentials are right Settle reads no new or changed invoices and ` +
        `writes no payments back (they wait, nothing is lost). Check ${WHERE[vendor] ?? "the connection's credentials"}, ` +
        `then enter them again in Settings → Connections or with \`settle connect psa ${vendor} …\`; \`settle doctor\` ` +
        `checks them. This closes by itself at the next poll that gets through.`,
      data: { vendor, status: e.status, code: e.vendorCode },
    }),
  );
}

/** A poll got through: the credentials are right again. */
export async function credentialsAccepted(ctx: EngineContext, tenantId: string): Promise<void> {
  await withTenant(ctx.db, tenantId, async (tx) => {
    const open = await tx
      .updateTable('exceptions')
      .set({ status: 'resolved', resolved_at: new Date(), resolved_by: ACTOR, resolution: 'credentials_accepted', updated_at: new Date() })
      .where('dedupe_key', '=', KEY)
      .where('status', '=', 'open')
      .returning('id')
      .execute();
    for (const r of open) await audit(tx, tenantId, ACTOR, 'exception.resolved', { type: 'exception', id: r.id }, { resolution: 'credentials_accepted' });
  });
}
