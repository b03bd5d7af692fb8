// QuickBooks Desktop simulator: the company file (answers qbXML from its own store, refusing what QuickBooks
// would — qbxml.ts) and the Web Connector that carries qbXML between it and Settle on a schedule
// (webconnector.ts). Settle is the SOAP server here; the simulator is the caller. Control under /_sim only.
import type { FastifyInstance } from 'fastify';
import { createSimulatorApp, listen } from '../kit.ts';
import { CompanyFile } from './store.ts';
import { WebConnector, type WebConnectorSettings } from './webconnector.ts';
import { amt } from './qbxml-rs.ts';
import { deleteTxn, voidTxn, type DeletableType } from './deletions.ts';
import { editDepositByHand } from './deposit-mod.ts';

export interface RunningQbdSimulator {
  readonly baseUrl: string;
  readonly company: CompanyFile;
  readonly webConnector: WebConnector;
  /** Every route it registers ("METHOD /path"), for the conformance test's every-route check. */
  readonly routes: readonly string[];
  close(): Promise<void>;
}

function centsOf(amount: string): bigint {
  const [whole, frac = ''] = String(amount).split('.');
  return BigInt(whole!) * 100n + BigInt(frac.padEnd(2, '0').slice(0, 2));
}

function registerControl(app: FastifyInstance, company: CompanyFile, wc: WebConnector): void {
  app.post('/_sim/web-connector', async (req) => {
    const b = req.body as Partial<WebConnectorSettings>;
    if (!b.appUrl || !b.userName || !b.password) return { ok: false, error: 'appUrl, userName and password are required' };
    wc.configure({ appUrl: b.appUrl, userName: b.userName, password: b.password, runEveryMs: b.runEveryMs ?? 5 * 60_000 });
    return { ok: true };
  });
  app.post('/_sim/poll-now', async () => wc.runNow());
  app.get('/_sim/runs', async () => wc.runs);
  app.get('/_sim/requests', async () => wc.requests);
  app.post('/_sim/faults/qbd', async (req) => {
    const { expireIterators, ...rest } = req.body as { expireIterators?: number } & Record<string, unknown>;
    Object.assign(wc.faults, rest);
    if (expireIterators !== undefined) company.iterators.expireNext = Number(expireIterators);
    return { ok: true, faults: { ...wc.faults, expireIterators: company.iterators.expireNext } };
  });
  app.post('/_sim/credit-memos', async (req) => {
    const b = req.body as { refNumber: string; customer: string; amount: string; txnDate?: string };
    const memo = company.addCreditMemo({
      refNumber: b.refNumber,
      customer: b.customer,
      amountCents: centsOf(b.amount),
      ...(b.txnDate ? { txnDate: b.txnDate } : {}),
    });
    return { txnId: memo.txnId, customerListId: memo.customerListId };
  });
  app.post('/_sim/invoices', async (req) => {
    const b = req.body as { refNumber: string; customer: string; amount: string; txnDate?: string };
    const inv = company.addInvoice({
      refNumber: b.refNumber,
      customer: b.customer,
      amountCents: centsOf(b.amount),
      ...(b.txnDate ? { txnDate: b.txnDate } : {}),
    });
    return { txnId: inv.txnId, customerListId: inv.customerListId };
  });
  // A person adding a class (class tracking) or making one inactive.
  app.post('/_sim/classes', async (req, reply) => {
    const b = req.body as { fullName?: string; active?: boolean };
    if (!b.fullName || b.fullName.length > 159) return reply.code(400).send({ ok: false, error: 'fullName is required (at most 159 characters)' });
    const cls = company.addClass(b.fullName);
    if (b.active !== undefined) cls.active = b.active;
    return { ok: true, class: cls };
  });
  // A bookkeeper adding a line to a deposit by hand (the reconciliation's "deposit edited by hand").
  app.post('/_sim/transactions/edit-deposit', async (req, reply) => {
    const b = req.body as { txnId?: string; account?: string; amount?: string; memo?: string };
    if (!b.txnId || !b.account || !b.amount) return reply.code(400).send({ ok: false, error: 'txnId, account and amount are required' });
    try {
      const d = editDepositByHand(company, b.txnId, { account: b.account, amountCents: centsOf(b.amount), memo: b.memo ?? 'edited by hand' });
      return { ok: true, total: amt(d.total) };
    } catch (e) {
      return reply.code(400).send({ ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
  // A person deleting or voiding a transaction in QuickBooks (deletions.ts): what the books copy must notice.
  app.post('/_sim/transactions/delete', async (req, reply) => {
    const b = req.body as { type?: DeletableType; txnId?: string };
    if (!['Invoice', 'ReceivePayment', 'Deposit', 'JournalEntry'].includes(String(b.type)))
      return reply.code(400).send({ ok: false, error: 'type must be Invoice, ReceivePayment, Deposit or JournalEntry' });
    try {
      return { ok: true, deleted: deleteTxn(company, b.type!, String(b.txnId)) };
    } catch (e) {
      return reply.code(400).send({ ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
  app.post('/_sim/transactions/void', async (req, reply) => {
    const b = req.body as { type?: 'ReceivePayment' | 'Deposit'; txnId?: string };
    if (b.type !== 'ReceivePayment' && b.type !== 'Deposit') return reply.code(400).send({ ok: false, error: 'type must be ReceivePayment or Deposit' });
    try {
      voidTxn(company, b.type, String(b.txnId));
      return { ok: true };
    } catch (e) {
      return reply.code(400).send({ ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
  app.get('/_sim/state', async () => ({
    invoices: company.invoices.map((i) => ({ ...i, subtotal: amt(i.subtotal), balance: amt(i.balance) })),
    payments: company.payments.map((p) => ({
      ...p,
      total: amt(p.total),
      applied: p.applied.map((a) => ({ ...a, amount: amt(a.amount), credits: (a.credits ?? []).map((x) => ({ ...x, amount: amt(x.amount) })) })),
    })),
    deposits: company.deposits.map((d) => ({ ...d, total: amt(d.total), lines: d.lines.map((l) => ({ ...l, amount: amt(l.amount) })) })),
    journals: company.journals.map((j) => ({
      ...j,
      debits: j.debits.map((l) => ({ ...l, amount: amt(l.amount) })),
      credits: j.credits.map((l) => ({ ...l, amount: amt(l.amount) })),
    })),
    accounts: company.accounts,
    creditMemos: company.creditMemos.map((m) => ({ ...m, total: amt(m.total), remaining: amt(m.remaining) })),
    classes: company.classes,
  }));
}

export async function startQbdSimulator(opts: { port?: number; host?: string } = {}): Promise<RunningQbdSimulator> {
  const { app } = createSimulatorApp();
  const company = new CompanyFile();
  const webConnector = new WebConnector(company);
  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${r.url}`);
  });
  registerControl(app, company, webConnector);
  const baseUrl = await listen(app, opts.port ?? 0, opts.host ?? '127.0.0.1');
  return {
    baseUrl,
    company,
    webConnector,
    routes,
    close: async () => {
      webConnector.stop();
      await app.close();
    },
  };
}

/**
 * `settle simulator quickbooks-desktop --port N`: a company file with two invoices, and a Web Connector that
 * waits to be told where Settle is (POST /_sim/web-connector with the .qwc's AppURL, UserName and the password),
 * then runs on its schedule; POST /_sim/poll-now runs it at once.
 */
export async function runStandalone(port: number): Promise<RunningQbdSimulator> {
  const s = await startQbdSimulator({ port });
  s.company.addInvoice({ refNumber: '1001', customer: 'Acme Dental', amountCents: 125000n });
  s.company.addInvoice({ refNumber: '1002', customer: 'Birch Law LLP', amountCents: 48050n });
  for (const name of ['Managed Services', 'Projects']) s.company.addClass(name);
  console.log(
    [
      `QuickBooks Desktop simulator (company file + Web Connector) on ${s.baseUrl}`,
      `  company file:   ${s.company.path}`,
      `  accounts:       ${s.company.accounts.map((a) => a.fullName).join(', ')}`,
      `  point it at Settle: POST ${s.baseUrl}/_sim/web-connector {"appUrl":"<Settle>/webhooks/qbwc","userName":"settle-<workspace id>","password":"…","runEveryMs":60000}`,
      `  run now:        POST ${s.baseUrl}/_sim/poll-now   state: GET ${s.baseUrl}/_sim/state`,
    ].join('\n'),
  );
  return s;
}
