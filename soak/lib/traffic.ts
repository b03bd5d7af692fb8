// The stream of work an MSP's Settle sees, sent through the product's own doors over HTTP: new invoices
// (created in the ConnectWise simulator, which calls Settle back; copied into the books a little later, as
// the PSA's export does), portal card payments (plain, declined then retried in the same form, double
// clicks), portal bank debits (some returned), API charges of saved cards (some retried with the same
// Idempotency-Key, as a client does after a lost answer), autopay runs, Stripe payouts and refunds.
// Errors are expected while Settle is being killed; they are counted per action, never fatal.
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { portalLinkFor } from '../../src/http/portal/links.ts';
import { SecretBox } from '../../src/db/crypto.ts';
import { bankForToken, TEST_ROUTING_NUMBER } from '../../simulators/stripe/test-methods.ts';
import { call, HttpError, type SimProcesses } from './sims.ts';
import type { Workspace } from './setup.ts';

export interface ActionTally {
  ok: number;
  /** Settle said no with a reason (409/422/400: already paid, money in flight, key in use) — correct answers. */
  refused: number;
  /** No answer or a 5xx: Settle was being killed or restarted, or PostgreSQL was down. */
  unavailable: number;
  /** Anything else: worth a look. */
  failed: number;
  /** A few distinct error messages, to say what went wrong without a log dive. */
  samples: string[];
}

export interface Traffic {
  readonly tally: Record<string, ActionTally>;
  /** Invoices created in the PSA whose copy in the books is still to be made (the export runs later). */
  flushBooks(all: boolean): Promise<void>;
  stop(): Promise<void>;
}

type Action = () => Promise<void>;

const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(Math.random() * xs.length)];
const chance = (p: number): boolean => Math.random() < p;

export function startTraffic(opts: { ws: Workspace; sims: SimProcesses; settleUrl: string; concurrency: number; paceMs: number }): Traffic {
  const { ws, sims, settleUrl } = opts;
  const db = ws.database.db;
  const tally: Record<string, ActionTally> = {};
  const tokens = new Map<string, string>();
  const booksQueue: { due: number; invoice: { docNumber: string; customerName: string; amount: string; txnDate: string; dueDate: string } }[] = [];
  const stripeAuth = { authorization: `Bearer ${sims.stripe.secretKey}` };
  const api = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<unknown> =>
    call(`${settleUrl}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${ws.apiKey}`, ...init.headers } });

  const portalToken = async (clientId: string): Promise<string> => {
    const cached = tokens.get(clientId);
    if (cached) return cached;
    const link = await withTenant(db, ws.tenantId, (tx) =>
      portalLinkFor(tx, settleUrl, ws.tenantId, clientId, 7 * 24 * 3600, SecretBox.fromHex(ws.secretKeyHex)),
    );
    const token = link.url.split('/portal/')[1]!;
    tokens.set(clientId, token);
    return token;
  };

  /** A client's open invoices (one to three of them), for a client chosen at random (autopay clients or not). */
  const openInvoicesOfSomeClient = async (autopay: boolean | null): Promise<{ clientId: string; invoiceIds: string[] } | null> => {
    // Open in Settle and not yet paid in part by anyone: what a client would still see as owing (the rest
    // would mostly be refused as already paid or in flight, which the double clicks exercise anyway).
    const rows = await withTenant(db, ws.tenantId, (tx) =>
      tx
        .selectFrom('invoices as i')
        .select(['i.id', 'i.client_id'])
        .where('i.status', 'in', ['open', 'partially_paid'])
        .where('i.total_minor', '>', 0n)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('allocations as a').select('a.id').whereRef('a.invoice_id', '=', 'i.id'))))
        .execute(),
    );
    const eligible = rows.filter((r) => autopay === null || ws.autopayClients.has(r.client_id) === autopay);
    const one = pick(eligible);
    if (!one) return null;
    const mine = eligible.filter((r) => r.client_id === one.client_id).map((r) => r.id);
    return { clientId: one.client_id, invoiceIds: mine.slice(0, 1 + Math.floor(Math.random() * Math.min(3, mine.length))) };
  };

  const startCheckout = async (
    token: string,
    invoiceIds: string[],
    method: 'card' | 'us_bank_account',
  ): Promise<{ intentId: string; clientSecret: string } | null> => {
    const body = await call<{ payment_id: string | null; client_secret?: string }>(`${settleUrl}/portal/${token}/pay`, {
      body: { invoice_ids: invoiceIds, method },
    });
    if (!body.client_secret) return null; // covered by the client's credit
    return { intentId: body.client_secret.split('_secret_')[0]!, clientSecret: body.client_secret };
  };
  /** What the hosted fields do when the client presses Pay. A decline is an answer, not an error. */
  const confirmCard = async (intentId: string, pm: string): Promise<'succeeded' | 'declined' | string> => {
    try {
      const pi = await call<{ status: string }>(`${sims.stripe.baseUrl}/v1/payment_intents/${intentId}/confirm`, {
        headers: stripeAuth,
        form: { payment_method: pm },
      });
      return pi.status;
    } catch (e) {
      if (e instanceof HttpError && e.status === 402) return 'declined';
      throw e;
    }
  };

  let lastPayoutAt = 0;
  const actions: Record<string, { weight: number; run: Action }> = {
    newInvoice: {
      weight: 4,
      run: async () => {
        const companies = await withTenant(db, ws.tenantId, (tx) =>
          tx.selectFrom('external_refs').select('remote_id').where('entity', '=', 'client').where('system', '=', 'connectwise').execute(),
        );
        const company = pick(companies);
        if (!company) return;
        const qty = 1 + Math.floor(Math.random() * 12);
        const price = pick(['45.00', '22.00', '6.50', '38.00', '120.00', '99.99'])!;
        const inv = await call<{ invoiceNumber: string; total: number; date: string; dueDate: string; company: { name: string } }>(
          `${sims.connectwise.origin}/_sim/invoices`,
          {
            body: {
              companyId: Number(company.remote_id),
              lines: [{ kind: 'product', description: 'Managed services — per user', quantity: String(qty), price }],
            },
          },
        );
        // The PSA's export reaches the books later: at once, within a minute, or only at the drain.
        const delay = pick([0, 5_000, 30_000, 90_000, Number.POSITIVE_INFINITY])!;
        booksQueue.push({
          due: Date.now() + delay,
          invoice: {
            docNumber: inv.invoiceNumber,
            customerName: inv.company.name,
            amount: inv.total.toFixed(2),
            txnDate: inv.date.slice(0, 10),
            dueDate: inv.dueDate.slice(0, 10),
          },
        });
      },
    },
    portalCard: {
      weight: 3,
      run: async () => {
        const o = await openInvoicesOfSomeClient(false);
        if (!o) return;
        const c = await startCheckout(await portalToken(o.clientId), o.invoiceIds, 'card');
        if (c) await confirmCard(c.intentId, pick(['pm_card_visa', 'pm_card_mastercard', 'pm_card_visa_debit'])!);
      },
    },
    portalDeclineThenRetry: {
      weight: 2,
      run: async () => {
        const o = await openInvoicesOfSomeClient(false);
        if (!o) return;
        const c = await startCheckout(await portalToken(o.clientId), o.invoiceIds, 'card');
        if (!c) return;
        await confirmCard(c.intentId, 'pm_card_chargeDeclined');
        // The client types a good card into the same form: the same PaymentIntent is confirmed again.
        await new Promise((r) => setTimeout(r, Math.random() * 3000));
        await confirmCard(c.intentId, 'pm_card_visa');
      },
    },
    portalDoubleClick: {
      weight: 2,
      run: async () => {
        const o = await openInvoicesOfSomeClient(false);
        if (!o) return;
        const token = await portalToken(o.clientId);
        // Two tabs (or a double click) start checkouts at once; each confirms what it was given, twice.
        const both = await Promise.allSettled([startCheckout(token, o.invoiceIds, 'card'), startCheckout(token, o.invoiceIds, 'card')]);
        const intents = [...new Set(both.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value.intentId] : [])))];
        const confirms = await Promise.allSettled(intents.flatMap((id) => [confirmCard(id, 'pm_card_visa'), confirmCard(id, 'pm_card_visa')]));
        if (intents.length === 0)
          throw both.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason ?? new Error('both checkouts were covered by credit');
        if (confirms.every((r) => r.status === 'rejected')) throw (confirms[0] as PromiseRejectedResult).reason;
      },
    },
    portalBank: {
      weight: 1,
      run: async () => {
        const o = await openInvoicesOfSomeClient(false);
        if (!o) return;
        const c = await startCheckout(await portalToken(o.clientId), o.invoiceIds, 'us_bank_account');
        if (!c) return;
        // Most debits settle; some are returned before settling (R01) or after (a return reported as a dispute).
        const token = pick(['pm_usBankAccount_success', 'pm_usBankAccount_success', 'pm_usBankAccount_insufficientFunds', 'pm_usBankAccount_dispute'])!;
        const account = bankForToken(token)!;
        const r = await call<{ error?: unknown }>(`${sims.stripe.baseUrl}/_sim/elements/confirm`, {
          body: {
            client_secret: c.clientSecret,
            pk: sims.stripe.publishableKey,
            method: 'us_bank_account',
            bank: { holder: 'Pat Client', routing: TEST_ROUTING_NUMBER, account: account.accountNumber, account_type: 'checking' },
            mandate_accepted: true,
            user_agent: 'settle-soak',
          },
        });
        if (r.error) throw new Error(`hosted fields confirm failed: ${JSON.stringify(r.error)}`);
      },
    },
    apiPayment: {
      weight: 2,
      run: async () => {
        const o = await openInvoicesOfSomeClient(true);
        if (!o) return;
        const body = { payment_method_id: ws.autopayClients.get(o.clientId)!, invoices: o.invoiceIds.map((invoice_id) => ({ invoice_id })) };
        const headers = { 'idempotency-key': `soak-${crypto.randomUUID()}` };
        // A client that lost the answer retries with the same key (sometimes while the first is still running).
        const first = api('/payments', { body, headers });
        if (chance(0.3)) {
          const again = api('/payments', { body, headers });
          const [a, b] = await Promise.allSettled([first, again]);
          if (a.status === 'rejected' && b.status === 'rejected') throw a.reason;
          return;
        }
        await first;
      },
    },
    autopayRun: { weight: 1, run: async () => void (await api('/autopay/runs', { method: 'POST', body: {} })) },
    // Stripe pays out daily; here at most every 30 s (it ran several times a minute, far more deposits than
    // QuickBooks' 500 requests/min per company can take next to everything else).
    payout: {
      weight: 1,
      run: async () => {
        if (Date.now() - lastPayoutAt < 30_000) return;
        lastPayoutAt = Date.now();
        await call(`${sims.stripe.baseUrl}/_sim/payouts/run`, { body: {} });
      },
    },
    refund: {
      weight: 1,
      run: async () => {
        const paid = await withTenant(db, ws.tenantId, (tx) =>
          tx
            .selectFrom('payments')
            .select(['id', 'amount_minor'])
            .where('state', 'in', ['succeeded', 'partially_refunded'])
            .where('method_kind', '=', 'card')
            .orderBy(sql`random()`)
            .limit(1)
            .execute(),
        );
        const p = paid[0];
        if (!p) return;
        const amount = 1n + BigInt(Math.floor(Math.random() * Number(p.amount_minor / 3n)));
        await api(`/payments/${p.id}/refunds`, { body: { amount_minor: amount.toString(), reason: 'soak: goodwill credit' } });
      },
    },
  };

  const names = Object.keys(actions);
  const weights = names.map((n) => actions[n]!.weight);
  const total = weights.reduce((a, b) => a + b, 0);
  const choose = (): string => {
    let x = Math.random() * total;
    for (const [i, n] of names.entries()) if ((x -= weights[i]!) < 0) return n;
    return names[0]!;
  };
  const record = (name: string, e: unknown): void => {
    const t = (tally[name] ??= { ok: 0, refused: 0, unavailable: 0, failed: 0, samples: [] });
    if (e === null) {
      t.ok++;
      return;
    }
    const status = e instanceof HttpError ? e.status : null;
    const msg = ((e as Error).message ?? String(e)).slice(0, 240);
    if (status === 409 || status === 422 || (status === 400 && msg.includes('payment_intent_unexpected_state'))) t.refused++;
    else if (
      status === null
        ? /fetch failed|ECONNREFUSED|ECONNRESET|socket|timeout|database system|terminating connection|Connection terminated/i.test(msg)
        : status >= 500
    )
      t.unavailable++;
    else t.failed++;
    if (t.samples.length < 6 && !t.samples.some((x) => x.slice(0, 50) === msg.slice(0, 50))) t.samples.push(msg);
  };

  let running = true;
  const lanes = Array.from({ length: opts.concurrency }, async () => {
    while (running) {
      const name = choose();
      try {
        await actions[name]!.run();
        record(name, null);
      } catch (e) {
        record(name, e);
      }
      await new Promise((r) => setTimeout(r, opts.paceMs * (0.5 + Math.random())));
    }
  });

  const flushBooks = async (all: boolean): Promise<void> => {
    const now = Date.now();
    const due = booksQueue.filter((q) => all || q.due <= now);
    if (!due.length) return;
    await call(`${sims.quickbooks.baseUrl}/_sim/seed`, { body: { invoices: due.map((q) => q.invoice) } });
    for (const q of due) booksQueue.splice(booksQueue.indexOf(q), 1);
  };
  const booksTimer = setInterval(() => void flushBooks(false).catch((e: unknown) => record('booksExport', e)), 2000);

  return {
    tally,
    flushBooks,
    stop: async () => {
      running = false;
      clearInterval(booksTimer);
      await Promise.all(lanes);
    },
  };
}
