// The QuickBooks Web Connector's side of the conversation (QBWebConnectorSvc.wsdl; semantics from the QBWC
// Programmer's Guide): authenticate → sendRequestXML / receiveResponseXML until 100 % → closeConnection. Each
// sendRequestXML hands over the next step of up to BATCH queued items as one qbXML document, or one shared
// invoice look-up for many (document-plan.ts) (continueOnError, so one refusal does not hold back the rest);
// each answer is applied to its item by requestID ("<item id>.<step>"; the shared look-up's ends ".lookup"). State lives in PostgreSQL, so a Settle restart mid-session loses nothing:
// items handed over whose answer never came are queued again, and their next add is preceded by a check.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../../db/pool.ts';
import { withTenant, type Tx } from '../../../db/tenant.ts';
import type { Currency } from '../../../domain/money.ts';
import type { QbdStep } from '../../../db/schema/quickbooks-desktop.ts';
import { qbxmlDocument } from './qbxml/xml.ts';
import { parseQbxmlResponse, QbxmlParseError } from './qbxml/responses.ts';
import { applyResponse, nextStep, requestFor, type InvoiceCopy, type WorkItem } from './work-steps.ts';
import { applyRead, isRead, readHandedOver, readRequest } from './reads.ts';
import type { WorkContext } from './work-intent.ts';
import { applicationsFor } from './reopened.ts';
import { BATCH, LOOKUPS, isSharedLookup, planDocument, sharedLookupRequest } from './document-plan.ts';

/** Items per request document (document-plan.ts): a 1,000-payment backlog is ~110 documents, not 1,000+. */
export { BATCH } from './document-plan.ts';

/** Where Settle serves the Web Connector (under /webhooks: no session cookie, no CSRF token — the SOAP password and tickets authenticate). */
export const QBWC_PATH = '/webhooks/qbwc';
const USER = /^settle-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

export interface WebConnectorDeps {
  readonly db: Db;
  /** Whether `password` is the workspace's Web Connector password; its home currency and company file when so. */
  verify(tenantId: string, password: string): Promise<{ readonly home: Currency; readonly companyFile: string } | null>;
  /** Items reached an end (or wait for an invoice): the books flush should look again. */
  settled?(tenantId: string): Promise<void>;
  log?: { warn(o: object, m: string): void };
}

export function webConnectorUserName(tenantId: string): string {
  return `settle-${tenantId}`;
}

interface Session {
  readonly ticket: string;
  readonly tenant_id: string;
  readonly closed_at: Date | null;
  readonly last_error: string | null;
}

export class WebConnectorService {
  private readonly homes = new Map<string, Currency>();
  constructor(private readonly deps: WebConnectorDeps) {}

  serverVersion(): string {
    return 'Settle 1.0 (qbXML 13.0)';
  }

  /** '' accepts the Web Connector; qbXML 13 needs QuickBooks 2014 or later, which QBWC 2.1+ drives. */
  clientVersion(_strVersion: string): string {
    return '';
  }

  /** [ticket, ''] work to do (current company file) · [ticket, 'none'] nothing to do · ['', 'nvu'] wrong user. */
  async authenticate(userName: string, password: string): Promise<[string, string]> {
    const m = USER.exec(userName.trim());
    const tenantId = m?.[1]?.toLowerCase();
    const ok = tenantId ? await this.deps.verify(tenantId, password) : null;
    if (!tenantId || !ok) return ['', 'nvu'];
    this.homes.set(tenantId, ok.home);
    const ticket = randomBytes(32).toString('hex');
    await this.deps.db
      .insertInto('qbd_sessions')
      .values({ ticket, tenant_id: tenantId, company_file: ok.companyFile || null })
      .execute();
    const open = await withTenant(this.deps.db, tenantId, async (tx) => {
      // A new run: what an earlier run handed over and never heard back about is queued again (checked first),
      // and invoices not found last time are looked for again.
      await requeue(tx, sql`ticket IS DISTINCT FROM ${ticket} AND state = 'in_flight'`);
      await tx.updateTable('qbd_work').set({ state: 'queued', updated_at: new Date() }).where('state', '=', 'waiting_invoice').execute();
      const r = await tx
        .selectFrom('qbd_work')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('state', '=', 'queued')
        .executeTakeFirstOrThrow();
      return r.n;
    });
    return [ticket, open > 0 ? ok.companyFile : 'none'];
  }

  /** The next qbXML document, or '' (the Web Connector then asks getLastError why). */
  async sendRequestXML(ticket: string): Promise<string> {
    const s = await this.session(ticket);
    if (!s) return '';
    const requests = await withTenant(this.deps.db, s.tenant_id, async (tx) => {
      const rows = await tx
        .selectFrom('qbd_work')
        .select(['id', 'key', 'kind', 'intent', 'context', 'adds_sent'])
        .where('state', '=', 'queued')
        .orderBy('id')
        .limit(BATCH + LOOKUPS)
        .forUpdate()
        .skipLocked()
        .execute();
      const plan = planDocument(rows.map((row): WorkItem => ({ ...row, context: row.context as WorkContext })));
      const out: string[] = [];
      if (plan.lookups.length > 0) {
        out.push(sharedLookupRequest(plan.lookups));
        await tx
          .updateTable('qbd_work')
          .set({ state: 'in_flight', step: 'lookup', ticket, updated_at: new Date() })
          .where(
            'id',
            'in',
            plan.lookups.map((i) => i.id),
          )
          .execute();
      }
      for (let item of plan.others) {
        const step = nextStep(item);
        if (item.kind === 'payment' && step === 'add') {
          // Split once, before the first add; a reversal of the same invoice still unsent ⇒ next document.
          const applyTo = await applicationsFor(tx, item);
          if (applyTo === 'wait') continue;
          item = { ...item, context: { ...item.context, applyTo } };
          await tx
            .updateTable('qbd_work')
            .set({ context: { ...item.context } })
            .where('id', '=', item.id)
            .execute();
        }
        try {
          out.push(isRead(item) ? readRequest(item, `${item.id}.${step}`) : requestFor(item, step, `${item.id}.${step}`));
        } catch (e) {
          await finish(tx, item.id, { state: 'refused', last_error: `Settle could not build the request: ${e instanceof Error ? e.message : String(e)}` });
          continue;
        }
        await tx
          .updateTable('qbd_work')
          .set((eb) => ({
            state: 'in_flight',
            step,
            ticket,
            updated_at: new Date(),
            adds_sent: step === 'add' ? eb('adds_sent', '+', 1) : eb.ref('adds_sent'),
            ...(isRead(item) ? { context: readHandedOver(item, new Date()) } : {}),
          }))
          .where('id', '=', item.id)
          .execute();
      }
      return out;
    });
    if (requests.length === 0) {
      await this.setError(ticket, 'Settle has no more work for QuickBooks in this run.');
      return '';
    }
    return qbxmlDocument(requests, 'continueOnError');
  }

  /** Applies QuickBooks' answers; returns percent done (100 ends the run), negative on an error (then getLastError). */
  async receiveResponseXML(ticket: string, response: string, hresult: string, message: string): Promise<number> {
    const s = await this.session(ticket);
    if (!s) return -1;
    const home = this.homes.get(s.tenant_id) ?? 'USD';
    if (hresult) {
      await this.abandon(s, `QuickBooks could not process the request (${hresult}): ${message}`);
      return -1;
    }
    let responses;
    try {
      responses = parseQbxmlResponse(response);
    } catch (e) {
      await this.abandon(s, e instanceof QbxmlParseError ? e.message : String(e));
      return -1;
    }
    let settled = false;
    const percent = await withTenant(this.deps.db, s.tenant_id, async (tx) => {
      const inFlight = await tx
        .selectFrom('qbd_work')
        .select(['id', 'key', 'kind', 'intent', 'context', 'adds_sent', 'step'])
        .where('ticket', '=', ticket)
        .where('state', '=', 'in_flight')
        .forUpdate()
        .execute();
      for (const row of inFlight) {
        const rs = row.step === 'lookup' ? responses.find((r) => isSharedLookup(r.requestID)) : responses.find((r) => r.requestID === `${row.id}.${row.step}`);
        if (!rs) {
          await requeue(tx, sql`id = ${row.id}`, 'QuickBooks sent no answer for this request');
          continue;
        }
        const item: WorkItem = { ...row, context: row.context as WorkContext };
        const read = isRead(item) ? await applyRead(tx, s.tenant_id, item, rs, home) : null;
        const { outcome, invoices } = read ?? applyResponse(item, row.step as QbdStep, rs, home);
        await copyInvoices(tx, s.tenant_id, invoices);
        // A read's progress (the books copy's cursors, its iterator) is its context, kept whatever the outcome.
        if (read) await tx.updateTable('qbd_work').set({ context: read.context }).where('id', '=', row.id).execute();
        if (outcome.state === 'done') {
          settled = true;
          await finish(tx, row.id, { state: 'done', remote_id: outcome.remoteId, last_error: null, status_code: 0 });
        } else if (outcome.state === 'refused') {
          settled = true;
          await finish(tx, row.id, { state: 'refused', last_error: outcome.error, status_code: outcome.statusCode });
        } else if (outcome.state === 'waiting_invoice') {
          settled = true;
          await tx
            .updateTable('qbd_work')
            .set({ state: 'waiting_invoice', step: null, last_error: outcome.error, updated_at: new Date() })
            .where('id', '=', row.id)
            .execute();
        } else {
          await tx
            .updateTable('qbd_work')
            .set({
              state: 'queued',
              step: null,
              context: { ...outcome.context },
              last_error: outcome.error ?? null,
              status_code: outcome.statusCode ?? null,
              updated_at: new Date(),
            })
            .where('id', '=', row.id)
            .execute();
        }
      }
      // Retryable refusals (record in use) stay queued but wait for the next run rather than spin in this one.
      const left = await tx
        .selectFrom('qbd_work')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('state', '=', 'queued')
        .where(sql<boolean>`status_code IS NULL`)
        .executeTakeFirstOrThrow();
      const handled = await tx
        .selectFrom('qbd_work')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('ticket', '=', ticket)
        .where('state', '!=', 'queued')
        .executeTakeFirstOrThrow();
      return left.n === 0 ? 100 : Math.max(1, Math.min(99, Math.floor((100 * handled.n) / (handled.n + left.n))));
    });
    if (settled && this.deps.settled) await this.deps.settled(s.tenant_id).catch((e) => this.deps.log?.warn({ err: e }, 'waking the books flush failed'));
    return percent;
  }

  async connectionError(ticket: string, hresult: string, message: string): Promise<string> {
    const s = await this.session(ticket);
    if (s) await this.abandon(s, `The Web Connector could not reach QuickBooks (${hresult}): ${message}`);
    return 'done';
  }

  async getLastError(ticket: string): Promise<string> {
    const s = await this.session(ticket);
    return s ? (s.last_error ?? '') : 'Unknown or expired ticket: the Web Connector should authenticate again.';
  }

  async closeConnection(ticket: string): Promise<string> {
    await this.deps.db.updateTable('qbd_sessions').set({ closed_at: new Date() }).where('ticket', '=', ticket).execute();
    return 'OK';
  }

  private async session(ticket: string): Promise<Session | null> {
    if (!ticket) return null;
    const s = await this.deps.db
      .selectFrom('qbd_sessions')
      .select(['ticket', 'tenant_id', 'closed_at', 'last_error'])
      .where('ticket', '=', ticket)
      .executeTakeFirst();
    if (!s || s.closed_at) return null;
    await this.deps.db.updateTable('qbd_sessions').set({ last_seen_at: new Date() }).where('ticket', '=', ticket).execute();
    return s;
  }

  private async setError(ticket: string, error: string): Promise<void> {
    await this.deps.db
      .updateTable('qbd_sessions')
      .set({ last_error: error.slice(0, 2000) })
      .where('ticket', '=', ticket)
      .execute();
  }

  /** The run failed: its items go back to the queue (their next add checked first) and the error is kept for getLastError. */
  private async abandon(s: Session, error: string): Promise<void> {
    await this.setError(s.ticket, error);
    await withTenant(this.deps.db, s.tenant_id, (tx) => requeue(tx, sql`ticket = ${s.ticket} AND state = 'in_flight'`, error));
  }
}

/**
 * Back to the queue; the check flag is dropped, so an add that may have reached QuickBooks is looked for first,
 * and so is a books-copy read's iterator (it lived only in QuickBooks' session), so that entity starts again.
 */
async function requeue(tx: Tx, where: ReturnType<typeof sql>, error?: string): Promise<void> {
  await sql`UPDATE qbd_work SET state = 'queued', step = NULL, context = context - 'checked' - 'iteratorID' - 'maxSeen', updated_at = now(),
    last_error = COALESCE(${error ?? null}, last_error) WHERE ${where}`.execute(tx);
}

async function finish(
  tx: Tx,
  id: string,
  set: { state: 'done' | 'refused'; remote_id?: string; last_error: string | null; status_code?: number },
): Promise<void> {
  await tx
    .updateTable('qbd_work')
    .set({ ...set, step: null, done_at: new Date(), updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

async function copyInvoices(tx: Tx, tenantId: string, invoices: readonly InvoiceCopy[]): Promise<void> {
  for (const i of invoices) {
    const row = {
      tenant_id: tenantId,
      txn_id: i.txnId,
      ref_number: i.refNumber,
      customer_list_id: i.customerListId,
      customer_name: i.customerName,
      total_minor: i.totalMinor,
      balance_minor: i.balanceMinor,
      currency: i.currency,
      time_modified: i.timeModified,
    };
    await tx
      .insertInto('qbd_invoices')
      .values(row)
      .onConflict((oc) => oc.columns(['tenant_id', 'txn_id']).doUpdateSet({ ...row, seen_at: new Date() }))
      .execute();
  }
}
