// The e-mail template language and catalogue: values escaped in the HTML part (a client named <script>),
// unknown and malformed variables refused with the allowed list, required variables kept, optional
// sentences vanishing, and every default template valid and rendering today's wording.
import { describe, expect, it } from 'vitest';
import { EMAIL_CATALOGUE, EMAIL_KINDS } from './catalogue.ts';
import { composeEmail } from './compose.ts';
import { checkTemplate, renderHtml, renderText } from './syntax.ts';
import { paymentFailedEmail } from '../payment-failed-email.ts';
import { preDebitNotice } from '../autopay-emails.ts';

const failed = EMAIL_CATALOGUE.payment_failed;
const check = (subject: string, body: string) => checkTemplate(subject, body, failed.variables, failed.required);

describe('e-mail templates', () => {
  it('escapes a client name in the HTML part and keeps it as written in the plain text', () => {
    const values = { ...failed.sample, client_name: '<script>alert("x")</script> & Co' };
    const email = composeEmail('payment_failed', values, { subject: 'Hi {{client_name}}', body: 'Hello {{client_name}},\n{{update_link}}' });
    expect(email.html).toContain('Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co,');
    expect(email.html).not.toContain('<script>');
    expect(email.text).toContain('Hello <script>alert("x")</script> & Co,');
    expect(email.subject).toBe('Hi <script>alert("x")</script> & Co');
  });

  it('escapes markup written into the template itself, and makes a link value a link', () => {
    const html = renderHtml('<b>Pay</b> here:\n{{update_link}}\n\nThanks', failed.sample);
    expect(html).toBe(
      '<p>&lt;b&gt;Pay&lt;/b&gt; here:<br>\n<a href="https://pay.example.com/portal/update-method/sample">Update your payment method</a></p>\n<p>Thanks</p>',
    );
  });

  it('refuses an unknown variable, naming it and listing the allowed ones', () => {
    const problems = check('Payment of {{amount}}', 'Dear {{customer}},\n{{update_link}}');
    expect(problems).toHaveLength(1);
    expect(problems[0]!.field).toBe('body');
    expect(problems[0]!.message).toContain('Unknown variable {{customer}}');
    expect(problems[0]!.message).toContain('{{client_name}}, {{amount}}, {{invoices}}');
  });

  it('refuses a malformed placeholder and a stray closing brace', () => {
    expect(check('x {{ amount', '{{update_link}}')[0]!.message).toMatch(/“\{\{ amount” in the subject is not a variable/);
    expect(check('x', '{{update_link}} }}')[0]!.message).toMatch(/not a variable/);
  });

  it('requires the link the e-mail cannot work without', () => {
    const problems = check('Payment of {{amount}}', 'Hello {{client_name}}, please call us.');
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('The e-mail needs {{update_link}}')]);
    expect(check('Payment of {{amount}}', 'Hello {{client_name}}: {{update_link}}')).toEqual([]);
  });

  it('refuses an empty subject, a block in the subject and a block inside a sentence', () => {
    const receipt = EMAIL_CATALOGUE.payment_receipt;
    const c = (s: string, b: string) => checkTemplate(s, b, receipt.variables, receipt.required).map((p) => p.message);
    expect(c('  ', '{{receipt_lines}}')).toEqual(['Enter the subject of the e-mail']);
    expect(c('{{receipt_lines}}', '{{receipt_lines}}')).toEqual([expect.stringContaining('only be used in the body')]);
    expect(c('Receipt', 'Lines: {{receipt_lines}}')).toEqual([expect.stringContaining('on a line of its own')]);
  });

  it('drops a line whose variables are all empty, and never leaves two blank lines', () => {
    expect(renderText('Hello,\n\n{{a}}\n\nBye {{b}}', { a: '', b: 'Ann' })).toBe('Hello,\n\nBye Ann');
  });

  it('every default template is valid and renders its sample', () => {
    for (const kind of EMAIL_KINDS) {
      const spec = EMAIL_CATALOGUE[kind];
      expect(checkTemplate(spec.subject, spec.body, spec.variables, spec.required), kind).toEqual([]);
      const email = composeEmail(kind, spec.sample);
      expect(email.subject.length, kind).toBeGreaterThan(5);
      expect(email.text, kind).not.toContain('{{');
      expect('html' in email, kind).toBe(spec.html);
    }
  });

  it('the defaults keep the wording the senders had in code', () => {
    const e = paymentFailedEmail({
      mspName: 'Acme IT',
      clientName: 'Oakridge',
      invoiceNumbers: ['1042'],
      currency: 'USD',
      amountMinor: 48000n,
      method: 'Visa ending 9995',
      reason: null,
      retryAt: null,
      link: 'https://x.test/l',
      linkExpiresAt: new Date('2026-03-28T00:00:00Z'),
    });
    expect(e.subject).toBe('Payment of $480.00 for invoice 1042 did not go through');
    expect(e.text).toBe(
      [
        'Hello Oakridge,',
        '',
        'Acme IT tried to collect $480.00 for invoice 1042.',
        'The payment from your Visa ending 9995 was declined.',
        '',
        'We will not try this payment method again. Please save a new card or bank account so that we can collect this payment:',
        'https://x.test/l',
        "(This link is valid until 2026-03-28. Card and bank details are entered in our payment processor's secure form.)",
        '',
        'Thank you,',
        'Acme IT',
      ].join('\n'),
    );
    const base = {
      mspName: 'Acme IT',
      clientName: 'Oakridge',
      invoiceNumber: '1042',
      currency: 'USD' as const,
      amountMinor: 30550n,
      totalMinor: 30550n,
      chargeOn: '2026-03-20',
      method: 'Visa ending 4242',
      lines: [{ description: 'Managed services', quantity: '10', amountMinor: 30550n }],
    };
    expect(preDebitNotice({ ...base, change: 'first', previousAmountMinor: null }).subject).toBe(
      'Upcoming automatic payment: $305.50 for invoice 1042 on 2026-03-20',
    );
    const updated = preDebitNotice({ ...base, change: 'increased', previousAmountMinor: 21550n });
    expect(updated.subject).toBe('Updated automatic payment: $305.50 for invoice 1042 on 2026-03-20 (was $215.50)');
    expect(updated.text).toMatch(/^Hello Oakridge,\n\nInvoice 1042 was changed after our earlier notice, and the amount went up\./);
    expect(preDebitNotice({ ...base, change: 'first', previousAmountMinor: null }).text).toMatch(/^Hello Oakridge,\n\nOn 2026-03-20 \(or the next day/);
  });
});
