// Staff settings of autopay: rules (ordered, per workspace or per client), workspace knobs, per-client pilot
// switches, rule lock and fallback method, and the client's default saved method. Every change is audited
// with what it was and what it became, in the same transaction. Shapes are checked at the HTTP edge (zod);
// what needs the database (does that client, rule, method exist here?) is checked here.
import type { Tx } from '../db/tenant.ts';
import { audit, type Actor } from './audit.ts';
import { UseCaseError } from './context.ts';
import { AUTOPAY_DEFAULTS, loadAutopaySettings, type AutopaySettings } from './autopay-store.ts';

export interface RuleInput {
  readonly client_id?: string | null;
  readonly name?: string;
  readonly position?: number;
  readonly enabled?: boolean;
  readonly invoice_types?: string[] | null;
  readonly line_kinds?: string[] | null;
  /** Contract kinds charged automatically (domain/contracts.ts COVERABLE_KINDS); null = any. */
  readonly contract_kinds?: string[] | null;
  readonly currency?: string | null;
  readonly approval_cap_minor?: bigint | null;
  readonly anchor?: 'due_date' | 'invoice_date';
  readonly offset_days?: number;
  readonly method_kinds?: ('card' | 'us_bank_account')[];
  readonly notice_days?: number | null;
}

const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));

async function assertClient(tx: Tx, clientId: string): Promise<void> {
  const c = await tx.selectFrom('clients').select('id').where('id', '=', clientId).executeTakeFirst();
  if (!c) throw new UseCaseError('not_found', `no client ${clientId} in this workspace; list clients with GET /api/v1/clients`);
}

export async function createRule(tx: Tx, tenantId: string, input: RuleInput & { name: string }, actor: Actor) {
  if (input.client_id) await assertClient(tx, input.client_id);
  const row = await tx
    .insertInto('autopay_rules')
    .values({
      tenant_id: tenantId,
      client_id: input.client_id ?? null,
      name: input.name,
      invoice_types: input.invoice_types ?? null,
      line_kinds: input.line_kinds ?? null,
      contract_kinds: input.contract_kinds ?? null,
      currency: input.currency ?? null,
      approval_cap_minor: input.approval_cap_minor ?? null,
      notice_days: input.notice_days ?? null,
      ...(input.position !== undefined ? { position: input.position } : {}),
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(input.anchor ? { anchor: input.anchor } : {}),
      ...(input.offset_days !== undefined ? { offset_days: input.offset_days } : {}),
      ...(input.method_kinds ? { method_kinds: input.method_kinds } : {}),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await audit(tx, tenantId, actor, 'autopay.rule_created', { type: 'autopay_rule', id: row.id }, { rule: json(row) });
  return row;
}

export async function getRule(tx: Tx, id: string) {
  const row = await tx.selectFrom('autopay_rules').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  if (!row) throw new UseCaseError('not_found', `no autopay rule ${id} in this workspace; list them with GET /api/v1/autopay/rules`);
  return row;
}

export async function updateRule(tx: Tx, tenantId: string, id: string, input: RuleInput, actor: Actor) {
  const before = await getRule(tx, id);
  if (input.client_id) await assertClient(tx, input.client_id);
  if (input.client_id && input.client_id !== before.client_id) {
    const locked = await tx
      .selectFrom('autopay_client_settings')
      .select('client_id')
      .where('locked_rule_id', '=', id)
      .where('client_id', '!=', input.client_id)
      .execute();
    if (locked.length > 0)
      throw new UseCaseError(
        'conflict',
        `other clients are locked to this rule (${locked.map((l) => l.client_id).join(', ')}); unlock them before making it one client's rule`,
      );
  }
  const { approval_cap_minor, ...rest } = input;
  const after = await tx
    .updateTable('autopay_rules')
    .set({ ...rest, ...(approval_cap_minor !== undefined ? { approval_cap_minor } : {}), updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await audit(tx, tenantId, actor, 'autopay.rule_updated', { type: 'autopay_rule', id }, { before: json(before), after: json(after) });
  return after;
}

export async function deleteRule(tx: Tx, tenantId: string, id: string, actor: Actor): Promise<void> {
  const before = await getRule(tx, id);
  const locked = await tx.selectFrom('autopay_client_settings').select('client_id').where('locked_rule_id', '=', id).execute();
  if (locked.length > 0)
    throw new UseCaseError(
      'conflict',
      `clients are locked to this rule (${locked.map((l) => l.client_id).join(', ')}); unlock them first with PUT /api/v1/autopay/clients/:id {"locked_rule_id": null}`,
    );
  // Kept (soft delete): schedules and the audit log still name it. Open schedules are re-matched next run.
  await tx.updateTable('autopay_rules').set({ deleted_at: new Date(), enabled: false, updated_at: new Date() }).where('id', '=', id).execute();
  await audit(tx, tenantId, actor, 'autopay.rule_deleted', { type: 'autopay_rule', id }, { rule: json(before) });
}

export async function saveSettings(tx: Tx, tenantId: string, input: Partial<AutopaySettings>, actor: Actor): Promise<AutopaySettings> {
  const before = await loadAutopaySettings(tx);
  const after = { ...before, ...input };
  const values = {
    notice_days: after.noticeDays,
    jump_percent: after.jumpPercent,
    requests_per_second: after.requestsPerSecond,
    concurrency: after.concurrency,
  };
  await tx
    .insertInto('autopay_settings')
    .values({ tenant_id: tenantId, ...values })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ ...values, updated_at: new Date() }))
    .execute();
  await audit(tx, tenantId, actor, 'autopay.settings_changed', { type: 'tenant', id: tenantId }, { before, after, defaults: AUTOPAY_DEFAULTS });
  return after;
}

export interface ClientAutopay {
  client_id: string;
  collection_enabled: boolean;
  autopay_enabled: boolean;
  locked_rule_id: string | null;
  fallback_method_id: string | null;
  default_method_id: string | null;
}

export async function getClientAutopay(tx: Tx, clientId: string): Promise<ClientAutopay> {
  const c = await tx.selectFrom('clients').select(['id', 'collection_enabled', 'autopay_enabled']).where('id', '=', clientId).executeTakeFirst();
  if (!c) throw new UseCaseError('not_found', `no client ${clientId} in this workspace; list clients with GET /api/v1/clients`);
  const s = await tx
    .selectFrom('autopay_client_settings')
    .select(['locked_rule_id', 'fallback_method_id'])
    .where('client_id', '=', clientId)
    .executeTakeFirst();
  const d = await tx.selectFrom('payment_methods').select('id').where('client_id', '=', clientId).where('is_default', '=', true).executeTakeFirst();
  return {
    client_id: c.id,
    collection_enabled: c.collection_enabled,
    autopay_enabled: c.autopay_enabled,
    locked_rule_id: s?.locked_rule_id ?? null,
    fallback_method_id: s?.fallback_method_id ?? null,
    default_method_id: d?.id ?? null,
  };
}

export async function saveClientAutopay(
  tx: Tx,
  tenantId: string,
  clientId: string,
  input: { collection_enabled?: boolean; autopay_enabled?: boolean; locked_rule_id?: string | null; fallback_method_id?: string | null },
  actor: Actor,
): Promise<ClientAutopay> {
  const before = await getClientAutopay(tx, clientId);
  if (input.autopay_enabled === true && input.collection_enabled === false)
    throw new UseCaseError('invalid', 'autopay needs collection: set collection_enabled true, or autopay_enabled false');
  if (input.locked_rule_id) {
    const rule = await getRule(tx, input.locked_rule_id);
    if (rule.client_id !== null && rule.client_id !== clientId)
      throw new UseCaseError('invalid', `rule ${rule.id} belongs to another client; lock this client to a workspace rule or one of its own`);
  }
  if (input.fallback_method_id) {
    const m = await tx.selectFrom('payment_methods').select(['client_id']).where('id', '=', input.fallback_method_id).executeTakeFirst();
    if (!m || m.client_id !== clientId)
      throw new UseCaseError(
        'invalid',
        `payment method ${input.fallback_method_id} is not one of this client's saved methods; list them with GET /api/v1/clients/${clientId}/payment-methods`,
      );
  }
  const collection = input.collection_enabled ?? before.collection_enabled;
  const autopay = collection ? (input.autopay_enabled ?? before.autopay_enabled) : false; // no autopay without collection
  if (collection !== before.collection_enabled || autopay !== before.autopay_enabled) {
    await tx
      .updateTable('clients')
      .set({ collection_enabled: collection, autopay_enabled: autopay, updated_at: new Date() })
      .where('id', '=', clientId)
      .execute();
  }
  if (input.locked_rule_id !== undefined || input.fallback_method_id !== undefined) {
    const values = {
      locked_rule_id: input.locked_rule_id === undefined ? before.locked_rule_id : input.locked_rule_id,
      fallback_method_id: input.fallback_method_id === undefined ? before.fallback_method_id : input.fallback_method_id,
    };
    await tx
      .insertInto('autopay_client_settings')
      .values({ tenant_id: tenantId, client_id: clientId, ...values })
      .onConflict((oc) => oc.columns(['tenant_id', 'client_id']).doUpdateSet({ ...values, updated_at: new Date() }))
      .execute();
  }
  const after = await getClientAutopay(tx, clientId);
  await audit(tx, tenantId, actor, 'autopay.client_settings_changed', { type: 'client', id: clientId }, { before, after });
  return after;
}

/** Make one saved method the client's default (the one autopay charges first). */
export async function setDefaultMethod(tx: Tx, tenantId: string, clientId: string, methodId: string, actor: Actor): Promise<void> {
  const m = await tx.selectFrom('payment_methods').select(['id', 'client_id', 'kind', 'last4', 'is_default']).where('id', '=', methodId).executeTakeFirst();
  if (!m || m.client_id !== clientId)
    throw new UseCaseError(
      'not_found',
      `payment method ${methodId} is not one of client ${clientId}'s saved methods; sync them with POST /api/v1/clients/${clientId}/payment-methods/sync`,
    );
  const previous = await tx.selectFrom('payment_methods').select('id').where('client_id', '=', clientId).where('is_default', '=', true).executeTakeFirst();
  await tx.updateTable('payment_methods').set({ is_default: false }).where('client_id', '=', clientId).where('id', '!=', methodId).execute();
  await tx.updateTable('payment_methods').set({ is_default: true }).where('id', '=', methodId).execute();
  await audit(
    tx,
    tenantId,
    actor,
    'payment_method.default_set',
    { type: 'client', id: clientId },
    { method: `${m.kind} ${m.last4}`, method_id: methodId, previous_default: previous?.id ?? null },
  );
}
