// Pay links written into each PSA (issue #10), through the whole stack: real PostgreSQL, Settle with its
// worker in this process, the PSA simulator over HTTP. Per vendor:
// 1. The first import writes nothing (the back catalogue is not written in one go); a new invoice then gets
//    a link, and — where the MSP must make a field first (ConnectWise, HaloPSA) — waits as one exception
//    that says how, which closes when the field exists (the doctor's check finds it) and the link is written.
// 2. Written once: a retry whose record of the write was lost (a crash between the PSA's answer and our
//    commit) finds the link there and writes nothing; another sync writes nothing either.
// 3. Revoked: the new link replaces it in the PSA (one more write); the old one tells the client to ask the MSP.
// 4. While owed the link opens the client's portal; once paid it shows the invoice is paid and offers nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { withTenant } from '../../src/db/tenant.ts';
import { syncPsa } from '../../src/engine/sync-psa.ts';
import { enqueue } from '../../src/engine/enqueue.ts';
import { payLinkJob, payLinkUrl, revokePayLink } from '../../src/engine/pay-links.ts';
import { checkPayLinkField } from '../../src/engine/write-pay-link.ts';
import { boxOf } from '../../src/engine/context.ts';
import { connectSystem } from '../../src/engine/connect-system.ts';
import { psaConnectionFor, type DemoPsa } from '../../src/cli/demo/psa-simulators.ts';
import { eventually, payInPortal, startStack, type Stack } from '../helpers/stack.ts';
import { definePayLinkField, newPsaInvoice, psaPayLinkText, psaPayLinkWrites } from './pay-links-helpers.ts';

let stack: Stack<DemoPsa> | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const T = 60_000;

describe.each(['connectwise', 'autotask', 'halopsa'] as const)('pay links in %s', (vendor) => {
  it('writes one link per new invoice once, replaces it on revoke, and shows paid once paid', async () => {
    const s = (stack = (await startStack({ psa: vendor, companies: 1, invoices: 2 })) as Stack<DemoPsa>);
    const ctx = s.settle!.ctx;
    const db = s.database.db;
    const t = s.tenantId;
    const q = <R>(fn: Parameters<typeof withTenant<R>>[2]) => withTenant(db, t, fn);
    const links = () => q((tx) => tx.selectFrom('invoice_pay_links').selectAll().orderBy('created_at').execute());
    expect(await links()).toHaveLength(0); // the first import made none

    // The MSP names a field it has not made yet (Autotask: Comments, nothing to make); `settle connect psa …`
    // (connectSystem) tells it at once whether the field is there.
    const field = vendor === 'connectwise' ? 'Online Payment' : vendor === 'halopsa' ? 'CFOnlinePayment' : 'Comments';
    const conn = psaConnectionFor(vendor, s.sims as never);
    const connected = await connectSystem(
      { db, box: boxOf(ctx), connectors: ctx.connectors, log: ctx.log },
      t,
      { role: 'psa', vendor, config: { ...conn.config, payLinkField: field }, secrets: conn.secrets, actor: 'system:test' },
      ctx.publicUrl,
      { queueImport: false },
    );
    if (vendor === 'autotask') expect(connected.payLinkField).toMatch(/Comments are writable/);
    else expect(connected.payLinkField).toEqual({ warning: expect.stringMatching(/no custom field/) });

    const ext = newPsaInvoice(s);
    await syncPsa(ctx, t);
    const inv = await q((tx) =>
      tx
        .selectFrom('invoices as i')
        .innerJoin('external_refs as r', (j) => j.onRef('r.entity_id', '=', 'i.id').on('r.entity', '=', 'invoice'))
        .select(['i.id', 'i.client_id', 'i.number'])
        .where('r.remote_id', '=', ext)
        .where('r.system', '=', vendor)
        .executeTakeFirstOrThrow(),
    );
    const exceptionOf = () => q((tx) => tx.selectFrom('exceptions').selectAll().where('dedupe_key', '=', `pay-link-field:${vendor}`).executeTakeFirst());

    if (vendor !== 'autotask') {
      const ex = await eventually(exceptionOf, T, 'the missing-field exception');
      expect(ex.status).toBe('open');
      expect(ex.detail).toContain('Custom Fields');
      expect(ex.detail).toContain('1 invoice is waiting');
      expect(await checkPayLinkField(ctx, t)).toEqual({ warning: expect.stringMatching(/no custom field .*Custom Fields/) });
      expect(await psaPayLinkWrites(s, ext)).toBe(0);
      await definePayLinkField(s, field);
      expect(await checkPayLinkField(ctx, t)).toMatch(/is there for pay links; 1 waiting link/);
    }

    const first = await eventually(async () => (await links()).find((l) => l.invoice_id === inv.id && l.psa_state === 'written'), T, 'the link written');
    const url = await payLinkUrl(db, boxOf(ctx), ctx.publicUrl, t, first.id);
    expect(psaPayLinkText(s, ext, field)).toContain(url);
    const writes = await psaPayLinkWrites(s, ext);
    expect(writes).toBe(1);
    if (vendor !== 'autotask') expect((await exceptionOf())?.status).toBe('resolved');

    // The worker wrote it, then "crashed" before recording so: the retry finds it there and writes nothing.
    await q(async (tx) => {
      await tx.updateTable('invoice_pay_links').set({ psa_state: 'pending' }).where('id', '=', first.id).execute();
      const job = payLinkJob(t, inv.id);
      await enqueue(tx, job.task, job.payload, job.options);
    });
    await eventually(
      () =>
        q((tx) =>
          tx
            .selectFrom('audit_log')
            .select('detail')
            .where('action', '=', 'pay_link.written_to_psa')
            .where('subject_id', '=', inv.id)
            .where(sql<boolean>`(detail->>'already_there')::boolean`)
            .executeTakeFirst(),
        ),
      T,
      'the retry to find the link already there',
    );
    await syncPsa(ctx, t);
    expect(await psaPayLinkWrites(s, ext)).toBe(writes);
    expect((await links()).filter((l) => l.invoice_id === inv.id)).toHaveLength(1);

    // While owed: the link opens the client's portal.
    const path = (u: string) => `${s.settleUrl}${new URL(u).pathname}`;
    const open = await fetch(path(url), { redirect: 'manual' });
    expect(open.status).toBe(303);
    expect(open.headers.get('location')).toMatch(/^\/portal\//);

    // Revoked: replaced in the PSA with one more write; the old link asks the client to get a new one.
    const { newId } = await q((tx) => revokePayLink(tx, t, inv.id, 'user:test'));
    const next = await eventually(async () => (await links()).find((l) => l.id === newId && l.psa_state === 'written'), T, 'the new link written');
    const nextUrl = await payLinkUrl(db, boxOf(ctx), ctx.publicUrl, t, next.id);
    expect(psaPayLinkText(s, ext, field)).toContain(nextUrl);
    expect(psaPayLinkText(s, ext, field)).not.toContain(url);
    expect(await psaPayLinkWrites(s, ext)).toBe(writes + 1);
    const revoked = await fetch(path(url));
    expect(revoked.status).toBe(403);
    expect(await revoked.text()).toContain('Please ask Acme IT for a new one');
    const forged = await fetch(path(url).slice(0, -3) + 'AAA');
    expect(forged.status).toBe(403);

    // Paid: the link shows so and offers nothing to pay.
    await payInPortal(s, await s.portalToken(inv.client_id), [inv.id]);
    await eventually(
      () => q((tx) => tx.selectFrom('invoices').select('status').where('id', '=', inv.id).where('status', '=', 'paid').executeTakeFirst()),
      T,
      'paid',
    );
    const paid = await fetch(path(nextUrl), { redirect: 'manual' });
    expect(paid.status).toBe(200);
    const html = await paid.text();
    expect(html).toContain(`Invoice ${inv.number} is paid`);
    expect(html).not.toContain('/portal/');
  }, 240_000);
});
