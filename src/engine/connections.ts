// Connections: a tenant's credentials for each outside system, sealed at rest (db/crypto.ts), and the
// connectors built from them (cached per tenant until the connection changes — in any process: see
// ConnectorCache and migrations/0014_connection_revision.sql).
import { withTenant } from '../db/tenant.ts';
import type { Db } from '../db/pool.ts';
import type { SecretBox } from '../db/crypto.ts';
import { vendorEntry, type ConnectionRole } from '../connectors/registry.ts';
import type { AccountingConnector } from '../connectors/accounting/types.ts';
import type { PaymentsConnector } from '../connectors/payments/types.ts';
import type { PsaConnector } from '../connectors/psa/types.ts';
import type { BankAchConnector } from '../connectors/payments/bank-ach/connector.ts';
import type { TenantConnectors } from './context.ts';
import { UseCaseError } from './context.ts';
import { audit, type Actor } from './audit.ts';

const sealContext = (tenantId: string, role: ConnectionRole): string => `connection:${tenantId}:${role}`;

export async function saveConnection(
  db: Db,
  box: SecretBox,
  tenantId: string,
  input: { role: ConnectionRole; vendor: string; config: Record<string, unknown>; secrets: Record<string, unknown>; actor: Actor },
): Promise<void> {
  const entry = vendorEntry(input.role, input.vendor);
  if (!entry) throw new UseCaseError('invalid', `Settle has no ${input.role} connector for "${input.vendor}"`);
  const config = entry.config.safeParse(input.config);
  if (!config.success)
    throw new UseCaseError('invalid', `${input.vendor} settings: ${config.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const secrets = entry.secrets.safeParse(input.secrets);
  if (!secrets.success)
    throw new UseCaseError('invalid', `${input.vendor} credentials: ${secrets.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const sealed = box.seal(secrets.data, sealContext(tenantId, input.role));
  await withTenant(db, tenantId, async (tx) => {
    await tx
      .insertInto('connections')
      .values({ tenant_id: tenantId, role: input.role, vendor: input.vendor, config: JSON.stringify(config.data) as never, secrets_ciphertext: sealed })
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'role']).doUpdateSet({
          vendor: input.vendor,
          config: JSON.stringify(config.data) as never,
          secrets_ciphertext: sealed,
          status: 'active',
          status_detail: null,
          updated_at: new Date(),
        }),
      )
      .execute();
    // Secrets never enter the audit log; which keys were set does.
    await audit(
      tx,
      tenantId,
      input.actor,
      'connection.saved',
      { type: 'connection', id: input.role },
      { vendor: input.vendor, config: config.data, secret_fields: Object.keys(secrets.data as object) },
    );
  });
}

/** A connection's settings and opened secrets, for checks that need more than the connector offers (`settle doctor`). */
export async function readConnection(
  db: Db,
  box: SecretBox,
  tenantId: string,
  role: ConnectionRole,
): Promise<{ vendor: string; config: Record<string, unknown>; secrets: Record<string, unknown> } | null> {
  const row = await withTenant(db, tenantId, (tx) =>
    tx
      .selectFrom('connections')
      .select(['vendor', 'config', 'secrets_ciphertext'])
      .where('role', '=', role)
      .where('status', '!=', 'disabled')
      .executeTakeFirst(),
  );
  if (!row) return null;
  return { vendor: row.vendor, config: row.config, secrets: box.open<Record<string, unknown>>(row.secrets_ciphertext, sealContext(tenantId, role)) };
}

/**
 * Connectors per tenant and role, built on first use. A connection saved by another process (`settle connect`
 * beside a running `settle start`, a `settle worker` beside both) moves the workspace's connections revision;
 * a use that sees a revision other than the one the cached connectors were built under drops them. The
 * revision is read at most every `recheckMs` per workspace (a new connection is picked up within that), and
 * callers that read the tenant row anyway pass it in (`observeRevision`), which makes webhook verification
 * use a rotated secret at once.
 */
export class ConnectorCache implements TenantConnectors {
  private readonly cache = new Map<string, Promise<unknown>>();
  private readonly revisions = new Map<string, { revision: bigint; checkedAt: number }>();
  private readonly checking = new Map<string, Promise<void>>();
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly recheckMs = 1000,
  ) {}

  psa(tenantId: string): Promise<PsaConnector | null> {
    return this.get(tenantId, 'psa') as Promise<PsaConnector | null>;
  }
  payments(tenantId: string): Promise<PaymentsConnector | null> {
    return this.get(tenantId, 'payments') as Promise<PaymentsConnector | null>;
  }
  accounting(tenantId: string): Promise<AccountingConnector | null> {
    return this.get(tenantId, 'accounting') as Promise<AccountingConnector | null>;
  }
  bankAch(tenantId: string): Promise<BankAchConnector | null> {
    return this.get(tenantId, 'bank_ach') as Promise<BankAchConnector | null>;
  }
  forget(tenantId: string): void {
    for (const role of ['psa', 'payments', 'accounting', 'bank_ach']) this.cache.delete(`${tenantId}:${role}`);
  }

  /** The workspace's connections revision as just read by the caller: drops stale connectors at once. */
  observeRevision(tenantId: string, revision: bigint): void {
    const known = this.revisions.get(tenantId);
    if (known && known.revision !== revision) this.forget(tenantId);
    this.revisions.set(tenantId, { revision, checkedAt: Date.now() });
  }

  private async fresh(tenantId: string): Promise<void> {
    const known = this.revisions.get(tenantId);
    if (known && Date.now() - known.checkedAt < this.recheckMs) return;
    let p = this.checking.get(tenantId);
    if (!p) {
      p = this.db
        .selectFrom('tenants')
        .select('connections_revision')
        .where('id', '=', tenantId)
        .executeTakeFirst()
        .then((row) => {
          if (row) this.observeRevision(tenantId, row.connections_revision);
        })
        .finally(() => this.checking.delete(tenantId));
      this.checking.set(tenantId, p);
    }
    await p;
  }

  private async get(tenantId: string, role: ConnectionRole): Promise<unknown> {
    await this.fresh(tenantId);
    const key = `${tenantId}:${role}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.build(tenantId, role);
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  private async build(tenantId: string, role: ConnectionRole): Promise<unknown> {
    const row = await withTenant(this.db, tenantId, (tx) =>
      tx.selectFrom('connections').selectAll().where('role', '=', role).where('status', '!=', 'disabled').executeTakeFirst(),
    );
    if (!row) return null;
    const entry = vendorEntry(role, row.vendor);
    if (!entry) throw new Error(`connection ${role} names unknown vendor ${row.vendor}`);
    const secrets = this.box.open<Record<string, unknown>>(row.secrets_ciphertext, sealContext(tenantId, role));
    return entry.build(entry.config.parse(row.config), entry.secrets.parse(secrets), {
      loadSecrets: async () => {
        const fresh = await withTenant(this.db, tenantId, (tx) =>
          tx.selectFrom('connections').select('secrets_ciphertext').where('role', '=', role).executeTakeFirstOrThrow(),
        );
        return this.box.open<Record<string, unknown>>(fresh.secrets_ciphertext, sealContext(tenantId, role));
      },
      saveSecrets: async (next) => {
        const sealed = this.box.seal(next, sealContext(tenantId, role));
        await withTenant(this.db, tenantId, (tx) =>
          tx.updateTable('connections').set({ secrets_ciphertext: sealed, updated_at: new Date() }).where('role', '=', role).execute(),
        );
      },
      // Data sealed by a connector (bank account numbers) is bound to the tenant, not to the connection, so
      // it stays readable when the connection's credentials are replaced.
      seal: (value, purpose) => this.box.seal(value, `data:${tenantId}:${purpose}`),
      open: <T>(sealed: string, purpose: string) => this.box.open<T>(sealed, `data:${tenantId}:${purpose}`),
      tenantId,
      db: this.db,
    });
  }
}
