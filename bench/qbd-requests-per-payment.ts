// Benchmark (issue #11) — QuickBooks Desktop: qbXML requests per 1,000 payments.
// Settle + PostgreSQL + the QuickBooks Desktop simulator (simulators/quickbooks-desktop), which plays the Web
// Connector — calling Settle's SOAP endpoint /webhooks/qbwc through the `soap` client built from Intuit's WSDL —
// and the company file. The workspace's books are put on QuickBooks Desktop as test/helpers/qbd-books.ts does
// (the PSA's invoices copied into the company file as its accounting export would, the connection saved through
// saveConnection, the Web Connector pointed at Settle). Backlog: 1,000 succeeded portal card payments with
// pending accounting postings (bench/lib/payment-backlog.ts, Settle's worker off). Then: one `flushAccounting`
// (the connector queues each posting for the Web Connector: qbd_work), Web Connector runs ("Update Selected",
// `runNow`) each followed by a flush, until no payment posting is pending. Counted: every qbXML request
// document Settle handed over (one per sendRequestXML round trip) and the messages in it by request type, every
// SOAP call by operation, the runs, the time; then every payment is looked for in the company file by its
// memo marker ([settle:<key>]) and ExternalGUID, and must be there exactly once, applied to its own invoice,
// with the TxnID Settle recorded. BENCH_QBD_PAYMENTS=n for a smaller run.
import { withTenant } from '../src/db/tenant.ts';
import { saveConnection, type ConnectorCache } from '../src/engine/connections.ts';
import { flushAccounting, type FlushSummary } from '../src/engine/post-to-accounting.ts';
import { BATCH, QBWC_PATH, webConnectorUserName } from '../src/connectors/accounting/quickbooks-desktop/web-connector.ts';
import { LOOKUPS } from '../src/connectors/accounting/quickbooks-desktop/document-plan.ts';
import { externalGuidFor } from '../src/connectors/accounting/quickbooks-desktop/qbxml/xml.ts';
import { startQbdSimulator, type RunningQbdSimulator } from '../simulators/quickbooks-desktop/index.ts';
import type { RunRecord, WebConnector } from '../simulators/quickbooks-desktop/webconnector.ts';
import { benchMain, isMain } from './lib/main.ts';
import type { BenchResult } from './lib/result.ts';
import { startBenchStack, type BenchStack } from './lib/stack.ts';
import { buildPaymentBacklog, pendingAccountingPayments } from './lib/payment-backlog.ts';

const N = paymentsWanted();
const MAX_RUNS = 10;
/** One Web Connector run may not take longer than this (the simulator's run cannot be cancelled; the bench ends). */
const RUN_TIMEOUT_MS = 300_000;
const PASSWORD = 'bench-web-connector-password';

export async function run(pgServerUrl: string): Promise<BenchResult> {
  const started = performance.now();
  const stack = await startBenchStack({
    pgServerUrl,
    label: 'qbd_requests',
    companies: Math.min(60, N),
    invoices: N + 60,
    linesPerInvoice: 3,
    worker: false,
    mirrorBooks: false,
    stripeRequestsPerSecond: 10_000,
  });
  let qbd: RunningQbdSimulator | null = null;
  try {
    qbd = await booksOnQuickBooksDesktop(stack);
    const wc = qbd.webConnector;

    // 1. The backlog.
    const backlog = await buildPaymentBacklog(stack, N);
    if (backlog.pending !== N)
      throw new Error(`backlog has ${backlog.pending} pending accounting postings (${backlog.succeeded} payments succeeded), expected ${N}`);

    // 2. Queue for the Web Connector, then its runs until every payment is posted.
    const { counts: soap, failures: soapFailures } = countSoapCalls(wc);
    const summary: FlushSummary = { payments: 0, deposits: 0, failed: 0, deferred: 0, waiting: 0, linked: 0 };
    let flushes = 0;
    let flushMs = 0;
    const flush = async (): Promise<void> => {
      const t = performance.now();
      const r = await flushAccounting(stack.settle.ctx, stack.tenantId);
      flushMs += performance.now() - t;
      flushes++;
      for (const k of Object.keys(summary) as (keyof FlushSummary)[]) summary[k] += r[k];
    };
    const tStart = performance.now();
    await flush();
    const queued = await workStates(stack);
    const runs: (RunRecord & { ms: number })[] = [];
    while (runs.length < MAX_RUNS && (await pendingAccountingPayments(stack)) > 0) {
      const t = performance.now();
      const rec = await withTimeout(wc.runNow(), RUN_TIMEOUT_MS, `Web Connector run ${runs.length + 1} did not end within ${RUN_TIMEOUT_MS / 1000} s`);
      runs.push({ ...rec, ms: Math.round(performance.now() - t) });
      if (rec.outcome === 'nvu') throw new Error(`Settle refused the Web Connector's user name or password (${rec.error ?? 'nvu'})`);
      await flush();
    }
    const totalMs = Math.round(performance.now() - tStart);
    const stillPending = await pendingAccountingPayments(stack);

    // 3. What was sent, and what the company file holds.
    const docs = wc.requests;
    const messages = countMessages(docs);
    const messagesTotal = [...messages.byType.values()].reduce((a, b) => a + b, 0);
    const check = await checkCompanyFile(stack, qbd);
    const posted = summary.payments;
    const r4 = (x: number): number => Math.round(x * 10_000) / 10_000;
    const per = (x: number): number => (posted > 0 ? r4(x / posted) : Number.POSITIVE_INFINITY);
    const adds = messages.byType.get('ReceivePaymentAddRq') ?? 0;
    const lookUps = messages.byType.get('InvoiceQueryRq') ?? 0;
    const batches = Math.ceil(N / BATCH);
    const problems = [
      ...(stillPending > 0 ? [`${stillPending} payment posting(s) still pending after ${runs.length} run(s): ${await pendingCauses(stack)}`] : []),
      ...(summary.failed > 0 ? [`${summary.failed} posting(s) failed: ${await pendingCauses(stack, 'failed')}`] : []),
      ...check.problems,
    ];
    const errorRuns = runs.filter((r) => r.outcome === 'error').length;
    const pass = problems.length === 0 && posted === N && check.once === N;
    return {
      name: 'qbd-requests-per-payment',
      figures: {
        payments: N,
        postedPayments: posted,
        companyFilePayments: qbd.company.payments.length,
        inCompanyFileOnce: check.once,
        missingFromCompanyFile: check.missing,
        duplicatesInCompanyFile: check.duplicates,
        wrongGuidOrTxnOrInvoice: check.mismatched,
        strayCompanyFilePayments: check.strays,
        failed: summary.failed,
        stillPending,
        queuedForWebConnector: queued,
        webConnectorRuns: runs.length,
        webConnectorRunsInError: errorRuns,
        soapFailures: Object.fromEntries(soapFailures.map((f, i) => [`${i + 1}`, f])),
        runs: Object.fromEntries(runs.map((r, i) => [`run ${i + 1}`, `${r.outcome}, ${r.documents} documents, ${r.ms} ms${r.error ? `: ${r.error}` : ''}`])),
        flushes,
        qbxmlDocuments: docs.length,
        qbxmlMessages: messagesTotal,
        messagesByType: Object.fromEntries(messages.byType),
        messagesPerPayment: per(messagesTotal),
        documentsPerPayment: per(docs.length),
        messagesPerDocumentMax: messages.maxPerDocument,
        invoiceRefNumbersPerInvoiceQuery: lookUps > 0 ? r4(messages.refNumbersInInvoiceQueries / lookUps) : 0,
        soapCalls: Object.fromEntries(soap),
        sendRequestXMLRoundTrips: soap.get('sendRequestXML') ?? 0,
        minimumMessages: N,
        timesMinimumMessages: r4(messagesTotal / N),
        lookUpsPerDocumentMax: LOOKUPS,
        messagesAtThisLookUpSize: N + Math.ceil(N / LOOKUPS),
        backlogBuildMs: backlog.buildMs,
        webConnectorMs: runs.reduce((a, r) => a + r.ms, 0),
        flushMs: Math.round(flushMs),
        totalMs,
      },
      target: `every payment in the company file exactly once (memo marker and ExternalGUID, applied to its invoice, the TxnID Settle recorded); issue #11 sets no figure for the requests — they are reported against the minimum of ${N} ReceivePaymentAdd messages (one a payment)`,
      pass,
      primary: 'qbxmlMessages',
      headline: [
        {
          label: 'qbXML messages/payment',
          value: `${per(messagesTotal)} (${messagesTotal}/${posted}; ${adds} ReceivePaymentAdd, ${lookUps} InvoiceQuery)`,
          target: '',
          pass,
        },
        {
          label: 'sendRequestXML round trips',
          value: `${soap.get('sendRequestXML') ?? 0} (${docs.length} documents, ≤ ${BATCH} writes or one shared look-up each) in ${runs.length} Web Connector run(s)${errorRuns ? ` (${errorRuns} ended in error)` : ''}, ${(totalMs / 1000).toFixed(1)} s`,
          target: '',
          pass,
        },
        { label: 'in the company file exactly once', value: `${check.once}/${N}`, target: `= ${N}`, pass },
      ],
      notes: [
        `${posted} payments posted: one flush queued them for the Web Connector (${flushes} flush(es) in all, ${Math.round(flushMs)} ms), then ${runs.length} Web Connector run(s) (${runs.map((r) => `${r.documents} documents in ${r.ms} ms`).join(', ')}); messages: ${[...messages.byType].map(([k, v]) => `${k} ${v}`).join(', ')}; SOAP calls: ${[...soap].map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `the minimum is ${N} qbXML messages: one ReceivePaymentAdd a payment (qbXML has no add of many payments in one message). Each payment needs its invoice's TxnID and customer first (AppliedToTxnAdd); the look-ups of a document share one InvoiceQuery naming up to ${LOOKUPS} RefNumbers, and a document goes to look-ups only when fewer than ${BATCH} items are ready to write (document-plan.ts), so ${N} payments take about ${N} + ⌈${N}/${LOOKUPS}⌉ = ${N + Math.ceil(N / LOOKUPS)} messages in about ${batches + Math.ceil(N / LOOKUPS)} documents (a look-up and the add it feeds cannot share a document: qbXML cannot use one message's answer in another of the same document). Before (until 7 December 2026): one InvoiceQuery per payment, ${2 * N} messages`,
        'a check-before-write (ReceivePaymentQuery by customer, date and RefNumber, matched on amount and memo marker) precedes only a re-send after an error; a clean run has none',
        ...(errorRuns > 0
          ? [
              `${errorRuns} Web Connector run(s) ended in error (a real Web Connector tries again at its next scheduled run, minutes later); Settle's answers: ${soapFailures.join(' | ') || 'none recorded'}; run records: ${runs
                .filter((r) => r.outcome === 'error')
                .map((r) => r.error ?? '?')
                .join(' | ')}`,
            ]
          : []),
        ...problems.map((p) => `PROBLEM: ${p}`),
      ],
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    await qbd?.close().catch(() => {});
    await stack.close();
  }
}

function paymentsWanted(): number {
  const raw = process.env.BENCH_QBD_PAYMENTS;
  if (raw === undefined || raw === '') return 1000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 5000) throw new Error(`BENCH_QBD_PAYMENTS must be a whole number from 1 to 5000, not "${raw}"`);
  return n;
}

/** test/helpers/qbd-books.ts for a bench stack: company file with the PSA's invoices, the connection, the Web Connector. */
async function booksOnQuickBooksDesktop(stack: BenchStack): Promise<RunningQbdSimulator> {
  const qbd = await startQbdSimulator();
  const invoices = await withTenant(stack.db, stack.tenantId, (tx) =>
    tx
      .selectFrom('invoices as i')
      .innerJoin('clients as c', 'c.id', 'i.client_id')
      .select(['i.number', 'i.total_minor', 'c.name'])
      .where('i.total_minor', '>', 0n)
      .execute(),
  );
  for (const i of invoices) qbd.company.addInvoice({ refNumber: i.number, customer: i.name, amountCents: BigInt(i.total_minor) });
  await saveConnection(stack.db, stack.settle.box, stack.tenantId, {
    role: 'accounting',
    vendor: 'quickbooks-desktop',
    config: { bankAccount: 'Checking', feeAccount: 'Merchant Fees', clearingAccount: 'Payments Clearing', runEveryMinutes: 1 },
    secrets: { webConnectorPassword: PASSWORD },
    actor: 'system:bench',
  });
  (stack.settle.ctx.connectors as ConnectorCache).forget(stack.tenantId);
  // The schedule is set far off: the bench starts every run itself ("Update Selected"), so runs are counted exactly.
  qbd.webConnector.configure({
    appUrl: `${stack.settleUrl.replace(/\/$/, '')}${QBWC_PATH}`,
    userName: webConnectorUserName(stack.tenantId),
    password: PASSWORD,
    runEveryMs: 24 * 3_600_000,
  });
  return qbd;
}

/**
 * Counts the simulated Web Connector's SOAP calls to Settle by operation (wraps its one call path), and keeps
 * each failed call's cause: the simulator's run record can only say "[object Object]" for an HTTP error whose
 * body the soap client parsed.
 */
function countSoapCalls(wc: WebConnector): { counts: Map<string, number>; failures: string[] } {
  const counts = new Map<string, number>();
  const failures: string[] = [];
  const target = wc as unknown as { call(op: string, args: Record<string, unknown>): Promise<Record<string, unknown>> };
  const original = target.call.bind(wc);
  target.call = (op, args) => {
    counts.set(op, (counts.get(op) ?? 0) + 1);
    return original(op, args).catch((e: unknown) => {
      const x = e as { message?: string; body?: unknown; response?: { status?: number; data?: unknown } };
      const body = JSON.stringify(x.body ?? x.response?.data ?? null)?.slice(0, 300);
      failures.push(`${op}: ${x.message ?? 'failed'}${x.response?.status ? ` (HTTP ${x.response.status})` : ''}${body && body !== 'null' ? `: ${body}` : ''}`);
      throw e;
    });
  };
  return { counts, failures };
}

/** qbXML messages (the …Rq elements inside QBXMLMsgsRq) by type, the most in one document, RefNumbers per InvoiceQuery. */
function countMessages(docs: readonly string[]): { byType: Map<string, number>; maxPerDocument: number; refNumbersInInvoiceQueries: number } {
  const byType = new Map<string, number>();
  let maxPerDocument = 0;
  let refNumbersInInvoiceQueries = 0;
  for (const doc of docs) {
    let inDoc = 0;
    for (const m of doc.matchAll(/<(\w+Rq)[\s>]/g)) {
      if (m[1] === 'QBXMLMsgsRq') continue;
      byType.set(m[1]!, (byType.get(m[1]!) ?? 0) + 1);
      inDoc++;
    }
    maxPerDocument = Math.max(maxPerDocument, inDoc);
    for (const q of doc.matchAll(/<InvoiceQueryRq\b[^>]*>([\s\S]*?)<\/InvoiceQueryRq>/g))
      refNumbersInInvoiceQueries += (q[1]!.match(/<RefNumber>/g) ?? []).length;
  }
  return { byType, maxPerDocument, refNumbersInInvoiceQueries };
}

/** Every payment posting's record in the company file: found by its memo marker, exactly once, with our ExternalGUID, TxnID and invoice. */
async function checkCompanyFile(
  stack: BenchStack,
  qbd: RunningQbdSimulator,
): Promise<{ once: number; missing: number; duplicates: number; mismatched: number; strays: number; problems: string[] }> {
  const postings = await withTenant(stack.db, stack.tenantId, (tx) =>
    tx
      .selectFrom('postings as po')
      .innerJoin('invoices as i', 'i.id', 'po.invoice_id')
      .select(['po.idempotency_key', 'po.remote_id', 'i.number'])
      .where('po.target', '=', 'accounting')
      .where('po.kind', '=', 'payment')
      .execute(),
  );
  const byKey = new Map<string, typeof qbd.company.payments>();
  let strays = 0;
  for (const p of qbd.company.payments) {
    const key = /\[settle:([^\]]+)\]/.exec(p.memo)?.[1];
    if (!key) {
      strays++;
      continue;
    }
    byKey.set(key, [...(byKey.get(key) ?? []), p]);
  }
  const invoiceTxn = new Map(qbd.company.invoices.map((i) => [i.refNumber, i.txnId]));
  let once = 0;
  let missing = 0;
  let duplicates = 0;
  let mismatched = 0;
  const examples: string[] = [];
  for (const po of postings) {
    const found = byKey.get(po.idempotency_key) ?? [];
    byKey.delete(po.idempotency_key);
    if (found.length === 0) {
      missing++;
      if (examples.length < 3) examples.push(`${po.idempotency_key} not in the company file`);
      continue;
    }
    if (found.length > 1) {
      duplicates++;
      if (examples.length < 3) examples.push(`${po.idempotency_key} in the company file ${found.length} times`);
      continue;
    }
    const p = found[0]!;
    const wrong = [
      ...(p.externalGuid !== externalGuidFor(po.idempotency_key) ? [`ExternalGUID ${p.externalGuid ?? 'none'}`] : []),
      ...(p.txnId !== po.remote_id ? [`TxnID ${p.txnId} but Settle recorded ${po.remote_id ?? 'none'}`] : []),
      ...(p.applied.length !== 1 || p.applied[0]!.txnId !== invoiceTxn.get(po.number) ? [`not applied to invoice ${po.number} alone`] : []),
    ];
    if (wrong.length > 0) {
      mismatched++;
      if (examples.length < 3) examples.push(`${po.idempotency_key}: ${wrong.join(', ')}`);
      continue;
    }
    once++;
  }
  strays += [...byKey.values()].reduce((a, ps) => a + ps.length, 0);
  const problems = [
    ...(missing + duplicates + mismatched > 0
      ? [`company file: ${missing} missing, ${duplicates} duplicated, ${mismatched} wrong (e.g. ${examples.join('; ')})`]
      : []),
    ...(strays > 0 ? [`${strays} payment(s) in the company file that no payment posting of Settle's accounts for`] : []),
    ...(postings.length !== N ? [`${postings.length} payment postings, ${N} expected`] : []),
  ];
  return { once, missing, duplicates, mismatched, strays, problems };
}

/** qbd_work rows by state (what the connector queued for the Web Connector). */
async function workStates(stack: BenchStack): Promise<Record<string, number>> {
  const rows = await withTenant(stack.db, stack.tenantId, (tx) =>
    tx
      .selectFrom('qbd_work')
      .select(['state', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy('state')
      .execute(),
  );
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/** Why postings are still pending (or failed): their commonest last errors, and the Web Connector queue's states. */
async function pendingCauses(stack: BenchStack, status: 'pending' | 'failed' = 'pending'): Promise<string> {
  const rows = await withTenant(stack.db, stack.tenantId, (tx) =>
    tx
      .selectFrom('postings')
      .select(['last_error', (eb) => eb.fn.countAll<string>().as('n')])
      .where('target', '=', 'accounting')
      .where('kind', '=', 'payment')
      .where('status', '=', status)
      .groupBy('last_error')
      .orderBy('n', 'desc')
      .limit(3)
      .execute(),
  );
  const errors = rows.map((r) => `${r.n} × ${r.last_error ?? 'no error recorded'}`).join('; ');
  return `${errors || 'none'}; qbd_work: ${JSON.stringify(await workStates(stack))}`;
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(timer));
}

if (isMain(import.meta.url)) await benchMain(run);
