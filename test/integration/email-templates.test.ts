// E-mail templates end to end: a workspace's own receipt wording (saved through the engine function the
// settings page uses, audited before → after) is what the SMTP relay receives for the next payment — the
// client's name escaped in the HTML part, the surcharge/total lines still there. Reset brings back the
// default. A template for an unknown variable changes nothing. The override is invisible to another workspace.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { resetEmailTemplate, saveEmailTemplate } from '../../src/engine/email-templates.ts';
import { UseCaseError } from '../../src/engine/context.ts';
import { eventually, openInvoices, startStack, type Stack } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { apiFor, saveCard, type Api } from '../helpers/autopay.ts';

let stack: Stack;
let smtp: TestSmtp;
let api: Api;

const q = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(stack.database.db, stack.tenantId, fn);
/** The message as a person reads it: quoted-printable soft breaks and escapes undone. */
const decoded = (raw: string): string => raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));

beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ companies: 2, invoices: 2, smtpUrl: smtp.url });
  api = apiFor(stack, await stack.apiKey());
}, 300_000);
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

async function pay(): Promise<{ paymentId: string; clientId: string }> {
  const invoice = (await openInvoices(stack))[0]!;
  await q((tx) =>
    tx
      .updateTable('clients')
      .set({ billing_email: 'ap@client.test', name: 'Oakridge <script>x</script> Dental' })
      .where('id', '=', invoice.client_id)
      .execute(),
  );
  const methodId = await saveCard(stack, api, invoice.client_id);
  const charged = await api('POST', '/payments', { payment_method_id: methodId, invoices: [{ invoice_id: invoice.id }] });
  expect(charged.body).toMatchObject({ outcome: 'succeeded' });
  return { paymentId: charged.body.payment_id, clientId: invoice.client_id };
}

describe('e-mail templates', () => {
  it('an overridden receipt is what the SMTP relay receives; reset brings back the default', async () => {
    const actor = 'user:00000000-0000-4000-8000-000000000001' as const;
    await q((tx) =>
      saveEmailTemplate(
        tx,
        stack.tenantId,
        'payment_receipt',
        {
          subject: 'Thanks {{client_name}}: {{total}} received',
          body: 'Dear {{client_name}},\n\nWe received your payment.\n\n{{receipt_lines}}\n\nRef {{reference}}',
        },
        actor,
      ),
    );
    const audits = await q((tx) =>
      tx.selectFrom('audit_log').select(['action', 'actor', 'detail']).where('action', '=', 'settings.email_template_changed').execute(),
    );
    expect(audits).toHaveLength(1);
    expect(audits[0]!.detail).toMatchObject({
      kind: 'payment_receipt',
      before: { subject: 'Receipt: {{total}} paid to {{msp_name}}', default: true },
      after: { subject: 'Thanks {{client_name}}: {{total}} received' },
    });

    const first = await pay();
    const mail = await eventually(async () => smtp.received.find((m) => m.raw.includes(first.paymentId)), 60_000, 'receipt e-mail');
    expect(mail.to).toEqual(['ap@client.test']);
    expect(mail.subject).toMatch(/^Thanks Oakridge <script>x<\/script> Dental: \$[\d,]+\.\d\d received$/);
    const body = decoded(mail.raw);
    expect(body).toContain('Dear Oakridge <script>x</script> Dental,'); // the plain-text part
    expect(body).toContain('<p>Dear Oakridge &lt;script&gt;x&lt;/script&gt; Dental,</p>'); // the HTML part
    expect(body).not.toContain('<p>Dear Oakridge <script>');
    expect(body).toContain('Total charged');
    expect(body).not.toContain('Thank you for your payment to');

    // Another workspace sees no override (row-level security), and cannot write one for this workspace.
    const other = crypto.randomUUID();
    expect(await withTenant(stack.database.db, other, (tx) => tx.selectFrom('email_templates').selectAll().execute())).toEqual([]);
    await expect(
      withTenant(stack.database.db, other, (tx) =>
        tx.insertInto('email_templates').values({ tenant_id: stack.tenantId, kind: 'portal_link', subject: 's', body: 'b', updated_by: actor }).execute(),
      ),
    ).rejects.toThrow(/row-level security/);

    // Back to the default: the next receipt has today's wording.
    expect(await q((tx) => resetEmailTemplate(tx, stack.tenantId, 'payment_receipt', actor))).toBe(true);
    const second = await pay();
    const again = await eventually(async () => smtp.received.find((m) => m.raw.includes(second.paymentId)), 60_000, 'second receipt');
    expect(again.subject).toMatch(/^Receipt: \$[\d,]+\.\d\d paid to /);
    expect(decoded(again.raw)).toContain('Thank you for your payment to');
    expect(await q((tx) => tx.selectFrom('audit_log').select('id').where('action', '=', 'settings.email_template_changed').execute())).toHaveLength(2);
  }, 240_000);

  it('a template with an unknown variable is refused and changes nothing', async () => {
    const err = await q((tx) =>
      saveEmailTemplate(
        tx,
        stack.tenantId,
        'payment_failed',
        { subject: 'x', body: 'Hi {{customer_name}} {{update_link}}' },
        'user:00000000-0000-4000-8000-000000000001',
      ),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UseCaseError);
    expect((err as Error).message).toContain('Unknown variable {{customer_name}}');
    expect((err as Error).message).toContain('{{client_name}}');
    expect(await q((tx) => tx.selectFrom('email_templates').selectAll().where('kind', '=', 'payment_failed').execute())).toEqual([]);
  });
});
