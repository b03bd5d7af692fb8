// Collections Assist through its other doors: the API (/api/v1/collections-assist/…: settings, sequences and
// steps, assignments, holds, results, a run on demand) and the `settle collections run|status` commands. A
// client paused through the API is not reminded by a CLI run; released, the next run reminds it once and the
// reminder reaches the SMTP test server. Refusals say what was wrong and change nothing; a viewer key reads only.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args.ts';
import { runCollectionsCommand } from '../../src/cli/collections.ts';
import { createApiKey } from '../../src/cli/workspace.ts';
import { addDays } from '../../src/domain/rules/calendar-date.ts';
import { apiFor, q } from '../helpers/autopay.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';

let stack: Stack;
let smtp: TestSmtp;
let api: ReturnType<typeof apiFor>;
let viewer: ReturnType<typeof apiFor>;
let clientId: string;
let invoiceId: string;
const today = new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ smtpUrl: smtp.url, companies: 1, invoices: 1 });
  api = apiFor(stack, await stack.apiKey());
  viewer = apiFor(stack, await createApiKey(stack.database.db, stack.tenantId, 'viewer', 'system:test', { role: 'viewer' }));
  // One client of the story, its invoice due three days ago (the +3 step is due); the seeded company is not chased.
  await q(stack, async (tx) => {
    await tx.updateTable('clients').set({ collection_enabled: false }).execute();
    const c = await sql<{ id: string }>`
      INSERT INTO clients (tenant_id, name, identifier, billing_email) VALUES (${stack.tenantId}, 'Harbor Dental', 'HARBOR', 'ap@harbor.example')
      RETURNING id`.execute(tx);
    clientId = c.rows[0]!.id;
    const i = await sql<{ id: string }>`
      INSERT INTO invoices (tenant_id, client_id, number, type, currency, total_minor, psa_balance_minor, status, psa_status, issued_on, due_on, psa_updated_at)
      VALUES (${stack.tenantId}, ${clientId}, 'HD-1001', 'Standard', 'USD', 48000, 48000, 'open', 'Open', ${addDays(today, -30)}, ${addDays(today, -3)}, now())
      RETURNING id`.execute(tx);
    invoiceId = i.rows[0]!.id;
  });
}, 180_000);
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const said: string[] = [];
  const code = await runCollectionsCommand(stack.settle!.ctx, [argv[0]!], parseArgs(argv.slice(1)), (l) => said.push(l));
  return { code, out: said.join('\n') };
}

describe('Collections Assist API and CLI', () => {
  it('sets up sequences, steps and assignments through the API; refusals change nothing', async () => {
    const off = await cli('run', '--workspace', stack.slug);
    expect(off.out).toContain('Collections Assist is off');

    expect((await viewer('PUT', '/collections-assist/settings', { enabled: true, business_days_only: false, send_from: 0, send_until: 24 })).status).toBe(403);
    const bad = await api('PUT', '/collections-assist/settings', { enabled: true, business_days_only: false, send_from: 18, send_until: 8 });
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toContain('“from” before “until”');
    const on = await api('PUT', '/collections-assist/settings', { enabled: true, business_days_only: false, send_from: 0, send_until: 24 });
    expect(on.status).toBe(200);
    expect((await viewer('GET', '/collections-assist/settings')).body).toEqual({ enabled: true, business_days_only: false, send_from: 0, send_until: 24 });

    const list = await viewer('GET', '/collections-assist/sequences');
    expect(list.status).toBe(200);
    const def = list.body.data.find((s: { is_default: boolean }) => s.is_default);
    expect(def.steps.map((s: { offset_days: number }) => s.offset_days)).toEqual([-7, -3, 0, 3, 7, 14, 30, 60]);

    const made = await api('POST', '/collections-assist/sequences', { name: 'Gentle' });
    expect(made.status).toBe(201);
    expect(made.body.name).toBe('Gentle');
    const dup = await api('POST', '/collections-assist/sequences', { name: 'Gentle' });
    expect(dup.status).toBe(422);
    expect(dup.body.error.message).toContain('exists already');

    const step3 = made.body.steps.find((s: { offset_days: number }) => s.offset_days === 3);
    const { id: _id, ...fields } = step3;
    const wrong = await api('PUT', `/collections-assist/sequences/${made.body.id}/steps/${step3.id}`, { ...fields, key: 'Not A Key', body: 'no variables' });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.message).toMatch(/lower-case/);
    const changed = await api('PUT', `/collections-assist/sequences/${made.body.id}/steps/${step3.id}`, { ...fields, statement_attached: true });
    expect(changed.status).toBe(200);
    const after = changed.body.steps.find((s: { id: string }) => s.id === step3.id);
    expect(after).toMatchObject({ statement_attached: true, attach_statement: true, key: step3.key });

    const unknownField = await api('POST', `/collections-assist/sequences/${made.body.id}/steps`, { ...fields, key: 'extra', offset_days: 90, colour: 'red' });
    expect(unknownField.status).toBe(400);

    const seg = await api('POST', `/collections-assist/sequences/${made.body.id}/assignments`, { segment: 'planet:MARS' });
    expect(seg.status).toBe(422);
    expect(seg.body.error.message).toContain('is not a segment');
    const assigned = await api('POST', `/collections-assist/sequences/${made.body.id}/assignments`, { client_id: clientId });
    expect(assigned.status).toBe(201);
    expect(assigned.body.assignments).toEqual([expect.objectContaining({ client_id: clientId, client_name: 'Harbor Dental' })]);
  });

  it('a pause from the API holds the CLI run back; released, the next run reminds once and status says so', async () => {
    const promise = await api('POST', '/collections-assist/holds', { kind: 'promise', invoice_id: invoiceId, until_on: addDays(today, -1) });
    expect(promise.status).toBe(422);
    expect(promise.body.error.message).toContain('today or later');
    const pause = await api('POST', '/collections-assist/holds', { kind: 'pause', client_id: clientId, note: 'owner on holiday' });
    expect(pause.status).toBe(201);
    expect(pause.body).toMatchObject({ kind: 'pause', client_name: 'Harbor Dental', invoice_id: null, source: 'staff' });
    expect((await viewer('GET', '/collections-assist/holds')).body.data.map((h: { id: string }) => h.id)).toEqual([pause.body.id]);

    const held = await cli('run', '--workspace', stack.slug);
    expect(held.code).toBe(0);
    expect(held.out).toContain('Claimed 0 reminder step(s)');
    expect((await cli('status', '--workspace', stack.slug)).out).toContain('Holds: 1 pause.');

    expect((await api('POST', `/collections-assist/holds/${pause.body.id}/release`, { reason: 'resumed' })).status).toBe(204);
    const ran = await cli('run', '--workspace', stack.slug);
    expect(ran.out).toContain('Claimed 1 reminder step(s); 1 e-mail(s) written');
    await eventually(async () => smtp.received.some((m) => m.to.includes('ap@harbor.example')), 30_000, 'the reminder at the relay');
    expect(smtp.received.filter((m) => m.to.includes('ap@harbor.example'))).toHaveLength(1);
    const again = await cli('run', '--workspace', stack.slug);
    expect(again.out).toContain('Claimed 0 reminder step(s)');
    // Marked sent as the relay accepted it (a moment after the relay has it).
    await eventually(async () => (await cli('status', '--workspace', stack.slug)).out.includes('1 sent today'), 30_000, 'status: 1 sent today');
    const status = (await cli('status', '--workspace', stack.slug)).out;
    expect(status).toContain(`Collections Assist for ${stack.slug}: on`);
    expect(status).toContain('Holds: none.');

    const results = await viewer('GET', '/collections-assist/results');
    expect(results.status).toBe(200);
    expect(results.body.steps).toEqual([expect.objectContaining({ sequence_name: 'Gentle', offset_days: 3, sent: 1, paid: 0, currency: 'USD' })]);
    expect((await api('POST', '/collections-assist/runs')).status).toBe(202);
    expect((await viewer('POST', '/collections-assist/runs')).status).toBe(403);
    await expect(cli('sideways', '--workspace', stack.slug)).rejects.toThrow('usage: settle collections run|status');
  });
});
