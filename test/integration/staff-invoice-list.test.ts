// The staff invoice list (db/queries/invoice-list.ts listInvoicePage, eachInvoicePage) and its CSV
// (http/staff/invoices-csv.ts) against real PostgreSQL: every filter and sort compared with the same rule
// computed here from the seed, keyset paging walked to the end in both directions (no gaps, no duplicates),
// search by number prefix and client name, and the CSV stream's rows and escaping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { withTenant, type Tx } from '../../src/db/tenant.ts';
import {
  eachInvoicePage,
  listInvoicePage,
  type InvoiceCursor,
  type InvoiceListFilter,
  type InvoiceListQuery,
  type InvoiceSort,
  type StaffInvoiceRow,
} from '../../src/db/queries/invoice-list.ts';
import { csvStream, csvText } from '../../src/http/staff/invoices-csv.ts';

const TODAY = '2026-02-20';
let t: TestDatabase;
let tenant: string;

interface Seeded {
  id: string;
  number: string;
  clientIdx: number;
  issued: string;
  due: string | null;
  total: bigint;
  status: 'open' | 'partially_paid' | 'paid' | 'void' | 'credit';
  method: 'card' | 'us_bank_account' | null;
}
const CLIENTS = [
  { name: 'Acme Dental', autopay: true },
  { name: 'Bright Legal, "Partners"', autopay: false },
  { name: '=HYPERLINK("http://evil")', autopay: false },
  { name: '100% Uptime_Co', autopay: true },
];
let clientIds: string[] = [];
const seeded: Seeded[] = [];
const STATUSES = ['open', 'paid', 'partially_paid', 'paid', 'void', 'paid', 'open', 'credit'] as const;

function addDays(d: string, n: number): string {
  const x = new Date(`${d}T00:00:00Z`);
  x.setUTCDate(x.getUTCDate() + n);
  return x.toISOString().slice(0, 10);
}

beforeAll(async () => {
  t = await createTestDatabase();
  tenant = (await t.db.insertInto('tenants').values({ slug: 'list', name: 'List MSP' }).returning('id').executeTakeFirstOrThrow()).id;
  await withTenant(t.db, tenant, async (tx) => {
    clientIds = [];
    for (const [i, c] of CLIENTS.entries()) {
      const row = await tx
        .insertInto('clients')
        .values({ tenant_id: tenant, name: c.name, identifier: `C${i}`, autopay_enabled: c.autopay })
        .returning('id')
        .executeTakeFirstOrThrow();
      clientIds.push(row.id);
    }
    for (let k = 0; k < 130; k++) {
      const issued = addDays('2026-01-01', k % 40); // many invoices share a date: ties broken by id
      const status = STATUSES[k % STATUSES.length]!;
      // Numbers with mixed case and another prefix; totals with ties.
      const number = k % 10 === 9 ? `cr-${2000 + k}` : `INV-${1000 + k}`;
      const total = k % 13 === 0 ? 5000n : BigInt(((k * 7919) % 50000) + 100);
      const due = k % 17 === 0 ? null : addDays(issued, 30);
      const clientIdx = k % 4;
      const inv = await tx
        .insertInto('invoices')
        .values({
          tenant_id: tenant,
          client_id: clientIds[clientIdx]!,
          number,
          type: 'Standard',
          currency: 'USD',
          total_minor: total,
          psa_balance_minor: status === 'paid' || status === 'void' ? 0n : total,
          status,
          psa_status: 'Sent',
          issued_on: issued,
          due_on: due,
          psa_updated_at: new Date(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      let method: Seeded['method'] = null;
      if (status === 'paid' && k % 3 !== 2) {
        method = k % 3 === 0 ? 'card' : 'us_bank_account';
        const p = await tx
          .insertInto('payments')
          .values({
            tenant_id: tenant,
            client_id: clientIds[clientIdx]!,
            currency: 'USD',
            amount_minor: total,
            planned_allocations: '[]',
            state: 'succeeded',
            source: 'portal',
            processor: 'stripe',
            processor_payment_id: `pi_${k}`,
            method_kind: method,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await tx.insertInto('allocations').values({ tenant_id: tenant, payment_id: p.id, invoice_id: inv.id, amount_minor: total }).execute();
        // Written back to the PSA (whose balance is 0 above), so nothing is open.
        await tx
          .insertInto('postings')
          .values({
            tenant_id: tenant,
            target: 'psa',
            vendor: 'connectwise',
            kind: 'payment',
            payment_id: p.id,
            invoice_id: inv.id,
            amount_minor: total,
            currency: 'USD',
            idempotency_key: `psa:${p.id}`,
            status: 'posted',
            remote_id: `cw-${k}`,
          })
          .execute();
      }
      seeded.push({ id: inv.id, number, clientIdx, issued, due, total, status, method });
    }
  });
});
afterAll(async () => t?.drop());

const inTx = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => withTenant(t.db, tenant, fn);

/** The list's rule, computed here: which seeded invoices a filter keeps. */
function keeps(s: Seeded, f: InvoiceListFilter): boolean {
  const unpaid = s.status === 'open' || s.status === 'partially_paid';
  if (f.status && s.status !== f.status) return false;
  if (f.overdue === true && !(unpaid && s.due !== null && s.due < TODAY)) return false;
  if (f.overdue === false && unpaid && s.due !== null && s.due < TODAY) return false;
  if (f.clientId && clientIds[s.clientIdx] !== f.clientId) return false;
  if (f.issuedFrom && s.issued < f.issuedFrom) return false;
  if (f.issuedTo && s.issued > f.issuedTo) return false;
  if (f.autopay !== undefined && CLIENTS[s.clientIdx]!.autopay !== f.autopay) return false;
  if (f.method && s.method !== f.method) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    if (!s.number.toLowerCase().startsWith(q) && !CLIENTS[s.clientIdx]!.name.toLowerCase().includes(q)) return false;
  }
  return true;
}

function keyOf(s: Seeded, sort: InvoiceSort): string | bigint {
  switch (sort) {
    case 'issued':
      return s.issued;
    case 'due':
      return s.due ?? '9999-99-99'; // no due date sorts last (after every real one)
    case 'amount':
      return s.total;
    case 'number':
      return s.number.toUpperCase();
  }
}

function expected(f: InvoiceListFilter, sort: InvoiceSort, dir: 'asc' | 'desc'): string[] {
  const rows = seeded.filter((s) => keeps(s, f));
  rows.sort((a, b) => {
    const ka = keyOf(a, sort);
    const kb = keyOf(b, sort);
    const c = ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    return dir === 'asc' ? c : -c;
  });
  return rows.map((r) => r.id);
}

/** Every page from the first, following `next`; checks each page's size. */
async function walk(q: Omit<InvoiceListQuery, 'limit' | 'today'>, limit: number): Promise<{ ids: string[]; pages: StaffInvoiceRow[][] }> {
  const pages: StaffInvoiceRow[][] = [];
  let after: InvoiceCursor | null = null;
  for (let n = 0; n < 200; n++) {
    const page = await inTx((tx) => listInvoicePage(tx, { ...q, after, limit, today: TODAY }));
    pages.push(page.rows);
    expect(page.rows.length).toBeLessThanOrEqual(limit);
    if (!page.next) break;
    expect(page.rows.length).toBe(limit);
    after = page.next;
  }
  return { ids: pages.flat().map((r) => r.id), pages };
}

describe('staff invoice list: filters', () => {
  const cases: [string, () => InvoiceListFilter][] = [
    ['no filter', () => ({})],
    ['status open', () => ({ status: 'open' })],
    ['status partially paid', () => ({ status: 'partially_paid' })],
    ['status paid', () => ({ status: 'paid' })],
    ['status void', () => ({ status: 'void' })],
    ['status credit', () => ({ status: 'credit' })],
    ['overdue', () => ({ overdue: true })],
    ['not overdue', () => ({ overdue: false })],
    ['client', () => ({ clientId: clientIds[1] })],
    ['client and status', () => ({ clientId: clientIds[0], status: 'open' })],
    ['issue-date period', () => ({ issuedFrom: '2026-01-10', issuedTo: '2026-01-20' })],
    ['client in autopay', () => ({ autopay: true })],
    ['client not in autopay', () => ({ autopay: false })],
    ['paid by card', () => ({ method: 'card' })],
    ['paid by bank account', () => ({ method: 'us_bank_account' })],
    ['overdue, in autopay, from a date', () => ({ overdue: true, autopay: true, issuedFrom: '2026-01-05' })],
  ];
  for (const [name, f] of cases) {
    it(`${name}: exactly the matching invoices, newest first`, async () => {
      const want = expected(f(), 'issued', 'desc');
      expect(want.length).toBeGreaterThan(0);
      const got = await walk({ ...f(), sort: 'issued', dir: 'desc' }, 9);
      expect(got.ids).toEqual(want);
    });
  }

  it('the rows carry what the page shows: balance, overdue, autopay, paid with', async () => {
    const page = await inTx((tx) => listInvoicePage(tx, { sort: 'number', dir: 'asc', limit: 200, today: TODAY }));
    for (const r of page.rows) {
      const s = seeded.find((x) => x.id === r.id)!;
      expect(r.number).toBe(s.number);
      expect(r.client_name).toBe(CLIENTS[s.clientIdx]!.name);
      expect(r.total_minor).toBe(s.total);
      expect(r.open_minor).toBe(s.status === 'paid' || s.status === 'void' ? 0n : s.total);
      expect(r.overdue).toBe((s.status === 'open' || s.status === 'partially_paid') && s.due !== null && s.due < TODAY);
      expect(r.autopay).toBe(CLIENTS[s.clientIdx]!.autopay);
      expect(r.paid_with).toBe(s.method);
      expect(r.issued_on).toBe(s.issued);
      expect(r.due_on).toBe(s.due);
    }
  });
});

describe('staff invoice list: sorts and keyset paging', () => {
  for (const sort of ['issued', 'due', 'amount', 'number'] as const) {
    for (const dir of ['asc', 'desc'] as const) {
      it(`sorted by ${sort} ${dir}: pages of 7 cover every invoice once, in order`, async () => {
        const got = await walk({ sort, dir }, 7);
        expect(new Set(got.ids).size).toBe(got.ids.length);
        expect(got.ids).toEqual(expected({}, sort, dir));
        expect(got.ids).toHaveLength(130);
      });
    }
  }

  it('a filtered, sorted list pages without gaps or duplicates too', async () => {
    const f: InvoiceListFilter = { status: 'paid' };
    const got = await walk({ ...f, sort: 'amount', dir: 'desc' }, 4);
    expect(got.ids).toEqual(expected(f, 'amount', 'desc'));
  });

  it('"previous page" from page 3 is page 2, and from page 2 the first page', async () => {
    const { pages } = await walk({ sort: 'due', dir: 'asc' }, 10);
    const third = pages[2]!;
    const back = await inTx((tx) =>
      listInvoicePage(tx, { sort: 'due', dir: 'asc', before: { key: third[0]!.sort_key, id: third[0]!.id }, limit: 10, today: TODAY }),
    );
    expect(back.rows.map((r) => r.id)).toEqual(pages[1]!.map((r) => r.id));
    expect(back.prev).not.toBeNull();
    expect(back.next).toEqual({ key: pages[1]!.at(-1)!.sort_key, id: pages[1]!.at(-1)!.id });
    const first = await inTx((tx) => listInvoicePage(tx, { sort: 'due', dir: 'asc', before: back.prev, limit: 10, today: TODAY }));
    expect(first.rows.map((r) => r.id)).toEqual(pages[0]!.map((r) => r.id));
    expect(first.prev).toBeNull();
  });

  it('pages by cursor, never by OFFSET (the staff list code has none)', async () => {
    const fs = await import('node:fs');
    const src = fs.readFileSync(new URL('../../src/db/queries/invoice-list.ts', import.meta.url), 'utf8');
    const staffPart = src.slice(src.indexOf('The staff invoice list'));
    expect(staffPart.length).toBeGreaterThan(1000);
    expect(staffPart).not.toMatch(/OFFSET \$\{|OFFSET \d|\.offset\(/);
  });
});

describe('staff invoice list: search', () => {
  it('by number prefix, any case', async () => {
    const got = await walk({ q: 'inv-10', sort: 'issued', dir: 'desc' }, 8);
    expect(got.ids).toEqual(expected({ q: 'inv-10' }, 'issued', 'desc'));
    expect(got.ids.length).toBe(seeded.filter((s) => s.number.startsWith('INV-10')).length);
    const cr = await walk({ q: 'CR-21', sort: 'number', dir: 'asc' }, 50);
    expect(cr.ids).toEqual(expected({ q: 'CR-21' }, 'number', 'asc'));
    expect(cr.ids.length).toBeGreaterThan(0);
  });

  it('by a part of the client name, any case', async () => {
    const got = await walk({ q: 'dENTAL', sort: 'amount', dir: 'asc' }, 6);
    expect(got.ids).toEqual(expected({ q: 'dental' }, 'amount', 'asc'));
    expect(got.ids.length).toBe(seeded.filter((s) => s.clientIdx === 0).length);
  });

  it('LIKE wildcards in the search are taken literally', async () => {
    const percent = await walk({ q: '100%', sort: 'issued', dir: 'desc' }, 50);
    expect(percent.ids).toEqual(expected({ q: '100%' }, 'issued', 'desc'));
    expect(percent.ids.every((id) => seeded.find((s) => s.id === id)!.clientIdx === 3)).toBe(true);
    // As a wildcard "_" would match the space of "Acme Dental"; taken literally nothing has "me_d".
    const underscore = await walk({ q: 'me_d', sort: 'issued', dir: 'desc' }, 50);
    expect(underscore.ids).toEqual([]);
    const lone = await walk({ q: '%', sort: 'issued', dir: 'desc' }, 50);
    expect(lone.ids).toEqual(expected({ q: '%' }, 'issued', 'desc'));
  });

  it('search combined with a filter and paged', async () => {
    const f: InvoiceListFilter = { q: 'a', status: 'open' }; // "a" is in three client names
    const got = await walk({ ...f, sort: 'due', dir: 'desc' }, 3);
    expect(got.ids).toEqual(expected(f, 'due', 'desc'));
  });

  it('no match is an empty page, not an error', async () => {
    const page = await inTx((tx) => listInvoicePage(tx, { q: 'no such thing', sort: 'issued', dir: 'desc', limit: 10, today: TODAY }));
    expect(page).toEqual({ rows: [], next: null, prev: null });
  });
});

async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return out;
}

/** A minimal CSV reader (RFC 4180: quoted cells, doubled quotes), enough to read our own output back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

describe('staff invoice list: CSV export', () => {
  it('streams every row of the filtered set in batches, money as decimals with the currency', async () => {
    let batches = 0;
    const counting = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
      batches++;
      return inTx(fn);
    };
    const f: InvoiceListFilter = { autopay: false };
    const text = await collect(csvStream(eachInvoicePage(counting, { ...f, sort: 'number', dir: 'asc', today: TODAY }, 10)));
    const rows = parseCsv(text);
    const want = expected(f, 'number', 'asc');
    expect(rows[0]).toEqual([
      'Invoice',
      'Client',
      'Issued',
      'Due',
      'Status',
      'PSA status',
      'Overdue',
      'Currency',
      'Total',
      'Open balance',
      'Autopay',
      'Paid with',
    ]);
    expect(rows.length - 1).toBe(want.length);
    expect(batches).toBe(Math.floor(want.length / 10) + 1); // one short transaction per batch of 10
    const byNumber = new Map(seeded.map((s) => [s.number, s]));
    for (const [i, r] of rows.slice(1).entries()) {
      const s = byNumber.get(r[0]!)!;
      expect(s.id).toBe(want[i]);
      expect(r[7]).toBe('USD');
      expect(r[8]).toBe(`${s.total / 100n}.${String(s.total % 100n).padStart(2, '0')}`);
      expect(r).toHaveLength(12);
    }
  });

  it('escapes commas and quotes, and neutralises cells a spreadsheet would run as a formula', async () => {
    const text = await collect(csvStream(eachInvoicePage(inTx, { clientId: clientIds[2], sort: 'issued', dir: 'desc', today: TODAY })));
    const rows = parseCsv(text).slice(1);
    expect(rows.length).toBe(seeded.filter((s) => s.clientIdx === 2).length);
    for (const r of rows) expect(r[1]).toBe(`'=HYPERLINK("http://evil")`);
    expect(text).toContain(`"'=HYPERLINK(""http://evil"")"`);
    const legal = parseCsv(await collect(csvStream(eachInvoicePage(inTx, { clientId: clientIds[1], sort: 'issued', dir: 'desc', today: TODAY })))).slice(1);
    for (const r of legal) expect(r[1]).toBe('Bright Legal, "Partners"');
    expect(csvText('+1 555')).toBe(`'+1 555`);
    expect(csvText('-2+3')).toBe(`'-2+3`);
    expect(csvText('@SUM(A1)')).toBe(`'@SUM(A1)`);
    expect(csvText('\tx')).toBe(`'\tx`);
    expect(csvText('a\nb')).toBe('"a\nb"');
    expect(csvText('plain')).toBe('plain');
  });

  it('an empty set is the header alone', async () => {
    const text = await collect(csvStream(eachInvoicePage(inTx, { q: 'nothing matches', sort: 'issued', dir: 'desc', today: TODAY })));
    expect(parseCsv(text)).toHaveLength(1);
  });
});
