// Bank ACH by file, the forward path: clients authorize debits in the portal (mandate text, time and IP
// stored; account numbers unreadable at rest), pay invoices by bank, and at the cut-off the day's debits
// become one NACHA file, delivered to the bank by SFTP and archived with its hash and the bank's
// acknowledgement. A WEB account is validated by a prenote before its first debit; a debit succeeds once
// its return window has passed, and the invoice is paid.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBankingDays } from '../../src/domain/rules/index.ts';
import { parseAch } from '../../src/connectors/payments/bank-ach/nacha/index.ts';
import { runAchCutoff } from '../../src/engine/ach-run-cutoff.ts';
import { pollAchBank } from '../../src/engine/ach-poll-bank.ts';
import { settlesAfter } from '../../src/engine/ach-store.ts';
import { mandateTemplateSha256 } from '../../src/engine/ach-mandate.ts';
import { eventually } from '../helpers/stack.ts';
import { authorizeAccount, COMPANY, invoicesByClient, portalPost, q, startBankAchStack, type BankAchStack } from './bank-ach-stack.ts';

let s: BankAchStack;
beforeAll(async () => {
  s = await startBankAchStack({ companies: 3, invoices: 8 });
});
afterAll(async () => s?.close());

describe('bank ACH: mandates, the cut-off file, SFTP delivery and the archive', () => {
  let business: { clientId: string; invoiceIds: string[]; numbers: string[]; total: bigint; paymentId: string; accountId: string };
  let personal: { clientId: string; invoiceId: string; paymentId: string; accountId: string };
  let fileDate: string;

  it('a business client authorizes debits (CCD), a person authorizes online (WEB, validated by a prenote); account numbers are sealed', async () => {
    const [a, b] = await invoicesByClient(s);
    const biz = await authorizeAccount(s, a!.clientId, { holderKind: 'business', accountNumber: '000123456789', holderName: 'Acme Dental LLC' });
    expect(biz).toMatchObject({ sec_code: 'CCD', validation: 'not_required', last4: '6789' });
    expect(biz.mandate_text).toContain('ending in 6789');
    const web = await authorizeAccount(s, b!.clientId, { holderKind: 'personal', accountNumber: '55501234', accountType: 'savings' });
    expect(web).toMatchObject({ sec_code: 'WEB', validation: 'pending', last4: '1234' });

    const rows = await q(s)((tx) => tx.selectFrom('ach_bank_accounts as a').innerJoin('ach_mandates as m', 'm.bank_account_id', 'a.id').selectAll().execute());
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.account_sealed).not.toMatch(/123456789|55501234/);
      expect(r.accepted_ip).toMatch(/127\.0\.0\.1/);
      expect(r.user_agent).toBe('bank-ach-test');
      expect(r.text_sha256).toBe(crypto.createHash('sha256').update(r.text).digest('hex'));
    }
    // The mandate is what the client agreed to: it cannot be edited afterwards.
    await expect(q(s)((tx) => tx.updateTable('ach_mandates').set({ text: 'something else' }).execute())).rejects.toThrow(/cannot be changed/);

    const invoices = a!.invoices.slice(0, 2);
    const pay = await portalPost(s, a!.clientId, 'pay-by-bank', {
      bank_account_id: biz.bank_account_id,
      invoices: invoices.map((i) => ({ invoice_id: i.id })),
    });
    expect(pay.status).toBe(201);
    expect(pay.body['state']).toBe('processing');
    business = {
      clientId: a!.clientId,
      invoiceIds: invoices.map((i) => i.id),
      numbers: invoices.map((i) => i.number),
      total: invoices.reduce((t, i) => t + i.total_minor, 0n),
      paymentId: pay.body['payment_id'] as string,
      accountId: biz.bank_account_id,
    };

    const payWeb = await portalPost(s, b!.clientId, 'pay-by-bank', { bank_account_id: web.bank_account_id, invoices: [{ invoice_id: b!.invoices[0]!.id }] });
    expect(payWeb.status).toBe(201);
    personal = { clientId: b!.clientId, invoiceId: b!.invoices[0]!.id, paymentId: payWeb.body['payment_id'] as string, accountId: web.bank_account_id };
  });

  it('refuses bad input with a clear 4xx and changes nothing', async () => {
    const before = await q(s)((tx) => tx.selectFrom('ach_bank_accounts').select('id').execute());
    const bad = await portalPost(s, business.clientId, 'bank-account', {
      holder_name: 'X Y',
      holder_kind: 'business',
      routing_number: '021000022',
      account_number: '1234567',
      account_type: 'checking',
      agree: true,
      mandate_sha256: '0'.repeat(64),
    });
    expect(bad.status).toBe(422);
    expect((bad.body['error'] as { message: string }).message).toMatch(/routing number/);
    const stale = await portalPost(s, business.clientId, 'bank-account', {
      holder_name: 'X Y',
      holder_kind: 'business',
      routing_number: '021000021',
      account_number: '1234567',
      account_type: 'checking',
      agree: true,
      mandate_sha256: '0'.repeat(64),
    });
    expect(stale.status).toBe(409);
    const noAgree = await portalPost(s, business.clientId, 'bank-account', {
      holder_name: 'X Y',
      holder_kind: 'business',
      routing_number: '021000021',
      account_number: '1234567',
      account_type: 'checking',
      agree: false,
      mandate_sha256: '0'.repeat(64),
    });
    expect(noAgree.status).toBe(400);
    expect((noAgree.body['error'] as { message: string }).message).toMatch(/agree/);
    // Another client's account is not usable from this client's portal.
    const foreign = await portalPost(s, business.clientId, 'pay-by-bank', {
      bank_account_id: personal.accountId,
      invoices: [{ invoice_id: business.invoiceIds[0] }],
    });
    expect(foreign.status).toBe(404);
    // An invoice with a bank debit in flight is not collected twice.
    const twice = await portalPost(s, business.clientId, 'pay-by-bank', {
      bank_account_id: business.accountId,
      invoices: [{ invoice_id: business.invoiceIds[0] }],
    });
    expect(twice.status).toBe(409);
    expect(await q(s)((tx) => tx.selectFrom('ach_bank_accounts').select('id').execute())).toHaveLength(before.length);
  });

  it('at the cut-off the ready entries become one file, delivered by SFTP and archived; the WEB debit waits for its prenote', async () => {
    fileDate = s.day1;
    const early = await runAchCutoff(s.at(fileDate, '08:00'), s.stack.tenantId);
    expect(early.built).toBeNull(); // the 09:30 cut-off is not due yet
    const r = await runAchCutoff(s.at(fileDate, '09:15'), s.stack.tenantId);
    expect(r.built).toMatchObject({ fileName: `SETTLE_${fileDate.replaceAll('-', '')}_A.ach`, entries: 2 });
    expect(r.delivered).toEqual([{ fileName: r.built!.fileName, delivery: 'uploaded' }]);
    // The same cut-off never gets a second file.
    expect((await runAchCutoff(s.at(fileDate, '09:20'), s.stack.tenantId)).built).toBeNull();

    expect(s.bank.sim.waiting()).toEqual([r.built!.fileName]);
    const [processed] = s.bank.sim.processInbound();
    expect(processed!.status).toBe('ACCEPTED');
    const received = s.bank.sim.received;
    expect(received).toHaveLength(2);
    const debit = received.find((e) => !e.prenote)!;
    expect(debit).toMatchObject({
      secCode: 'CCD',
      companyName: COMPANY.companyName,
      companyId: COMPANY.companyId,
      companyEntryDescription: 'INVOICES',
      transactionCode: 27,
      accountNumber: '000123456789',
      amountCents: business.total,
    });
    expect(debit.addenda[0]).toContain(`RMR*IV*${business.numbers[0]}*`);
    const prenote = received.find((e) => e.prenote)!;
    expect(prenote).toMatchObject({ secCode: 'WEB', transactionCode: 38, amountCents: 0n, accountNumber: '55501234' });

    // The archive: the bytes the bank got, sealed, with their hash; nothing readable in the row.
    const api = await fetch(`${s.stack.settleUrl}/api/v1/ach/files`, { headers: { authorization: `Bearer ${await s.stack.apiKey()}` } });
    const files = ((await api.json()) as { data: { sha256: string; status: string; entries: number }[] }).data;
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ status: 'sent', entries: 2, sha256: s.bank.sim.deliveries[0]!.sha256 });
    const row = await q(s)((tx) => tx.selectFrom('ach_files').selectAll().executeTakeFirstOrThrow());
    expect(row.content_sealed).not.toContain('000123456789');
    const text = s.box.open<string>(row.content_sealed, `data:${s.stack.tenantId}:ach-file`);
    expect(crypto.createHash('sha256').update(text).digest('hex')).toBe(row.sha256);
    const parsed = parseAch(text);
    expect(parsed.ok && parsed.file.control.totalDebitCents).toBe(business.total);

    // The bank's acknowledgement is picked up and kept with the file.
    await pollAchBank(s.at(fileDate, '10:00'), s.stack.tenantId);
    const acked = await q(s)((tx) => tx.selectFrom('ach_files').select(['status', 'ack_text']).executeTakeFirstOrThrow());
    expect(acked.status).toBe('accepted');
    expect(acked.ack_text).toContain('STATUS: ACCEPTED');
    const payment = await q(s)((tx) => tx.selectFrom('payments').select('state').where('id', '=', business.paymentId).executeTakeFirstOrThrow());
    expect(payment.state).toBe('processing');
  });

  it('after the return window the debit settles: the payment succeeds and the invoices are paid; the prenote validates the WEB account, whose debit goes out next', async () => {
    const effective = addBankingDays(fileDate, 1);
    const stillOpen = await pollAchBank(s.at(settlesAfter(effective), '12:00'), s.stack.tenantId);
    expect(stillOpen.settled).toBe(0);
    const after = addBankingDays(settlesAfter(effective), 1);
    const r = await pollAchBank(s.at(after, '08:00'), s.stack.tenantId);
    expect(r.settled).toBe(2);
    const payment = await q(s)((tx) => tx.selectFrom('payments').select('state').where('id', '=', business.paymentId).executeTakeFirstOrThrow());
    expect(payment.state).toBe('succeeded');
    const invoices = await q(s)((tx) => tx.selectFrom('invoices').select('status').where('id', 'in', business.invoiceIds).execute());
    expect(invoices.every((i) => i.status === 'paid')).toBe(true);
    // Recorded through record-payment-outcome like any payment: posted to the PSA and the books.
    await eventually(
      async () => {
        const rows = await q(s)((tx) => tx.selectFrom('postings').select('status').where('payment_id', '=', business.paymentId).execute());
        return rows.length === 4 && rows.every((p) => p.status === 'posted');
      },
      15_000,
      'PSA and books postings of the settled debit',
    );
    const account = await q(s)((tx) => tx.selectFrom('ach_bank_accounts').select('validation').where('id', '=', personal.accountId).executeTakeFirstOrThrow());
    expect(account.validation).toBe('validated');

    const next = await runAchCutoff(s.at(after, '09:10'), s.stack.tenantId);
    expect(next.built).toMatchObject({ fileName: `SETTLE_${after.replaceAll('-', '')}_A.ach`, entries: 1 });
    s.bank.sim.processInbound();
    const web = s.bank.sim.received.at(-1)!;
    expect(web).toMatchObject({ secCode: 'WEB', transactionCode: 37, companyEntryDescription: 'PURCHASE', accountNumber: '55501234' });
  });

  it('a debit asked for Same Day goes out in a Same Day window with SDHHMM and today as its effective date', async () => {
    const c = (await invoicesByClient(s)).find((x) => x.clientId !== business.clientId && x.clientId !== personal.clientId);
    const acct = await authorizeAccount(s, c!.clientId, { holderKind: 'business', accountNumber: '77788899' });
    const pay = await portalPost(s, c!.clientId, 'pay-by-bank', {
      bank_account_id: acct.bank_account_id,
      invoices: [{ invoice_id: c!.invoices[0]!.id }],
      same_day: true,
    });
    expect(pay.status).toBe(201);
    const day = addBankingDays(fileDate, 6);
    const r = await runAchCutoff(s.at(day, '13:30'), s.stack.tenantId);
    expect(r.built?.entries).toBe(1);
    s.bank.sim.processInbound();
    const e = s.bank.sim.received.at(-1)!;
    expect(e.companyDescriptiveDate).toBe('SD1700');
    expect(e.effectiveEntryDate).toBe(day.slice(2).replaceAll('-', ''));
  });

  it('a bank account saved for debits, charged as a saved method (staff API, autopay), is debited by file and never sent to the card processor', async () => {
    const method = await q(s)((tx) =>
      tx
        .selectFrom('payment_methods')
        .select(['id', 'last4'])
        .where('processor', '=', 'bank-ach')
        .where('processor_method_id', '=', business.accountId)
        .executeTakeFirstOrThrow(),
    );
    const a = (await invoicesByClient(s)).find((c) => c.clientId === business.clientId)!;
    const open = a.invoices.find((i) => !business.invoiceIds.includes(i.id))!;
    const stripeBefore = s.stack.sims.stripe.sim.calls.total('POST');
    const res = await fetch(`${s.stack.settleUrl}/api/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await s.stack.apiKey()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ payment_method_id: method.id, invoices: [{ invoice_id: open.id }] }),
    });
    const body = (await res.json()) as { payment_id: string; outcome: string };
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body.outcome).toBe('processing');
    const p = await q(s)((tx) =>
      tx.selectFrom('payments').select(['processor', 'state', 'method_last4']).where('id', '=', body.payment_id).executeTakeFirstOrThrow(),
    );
    expect(p).toEqual({ processor: 'bank-ach', state: 'processing', method_last4: '6789' });
    const entry = await q(s)((tx) =>
      tx.selectFrom('ach_entries').select(['status', 'amount_minor', 'sec_code']).where('payment_id', '=', body.payment_id).executeTakeFirstOrThrow(),
    );
    expect(entry).toEqual({ status: 'pending', amount_minor: open.total_minor, sec_code: 'CCD' });
    expect(s.stack.sims.stripe.sim.calls.total('POST')).toBe(stripeBefore);
  });

  it('staff record a signed paper authorization of a personal account as PPD (no prenote needed)', async () => {
    const res = await fetch(`${s.stack.settleUrl}/api/v1/ach/bank-accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await s.stack.apiKey()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: personal.clientId,
        holder_name: 'Robin Owner',
        holder_kind: 'personal',
        routing_number: '021000021',
        account_number: '31415926',
        account_type: 'checking',
        mandate_sha256: mandateTemplateSha256(),
      }),
    });
    const body = (await res.json()) as { sec_code: string; validation: string; bank_account_id: string };
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ sec_code: 'PPD', validation: 'not_required' });
    const m = await q(s)((tx) =>
      tx.selectFrom('ach_mandates').select(['channel', 'accepted_by']).where('bank_account_id', '=', body.bank_account_id).executeTakeFirstOrThrow(),
    );
    expect(m.channel).toBe('staff');
    expect(m.accepted_by).toMatch(/^api_key:/);
  });
});
