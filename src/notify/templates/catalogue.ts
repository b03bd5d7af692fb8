// Every kind of e-mail Settle sends to an MSP's clients, with its default wording (what the senders in
// src/notify built in code before templates), the fixed set of variables it offers and the ones it cannot
// work without. A workspace may override subject and body (engine/email-templates.ts); the sender fills the
// same variables either way (compose.ts). Conditional sentences of the defaults ("we will try again on …")
// are variables whose value is empty when they do not apply: a line left empty by them disappears.
import type { TemplateValues, VariableSpec } from './syntax.ts';

export const EMAIL_KINDS = [
  'payment_receipt',
  'payment_failed',
  'portal_link',
  'autopay_notice',
  'autopay_cancelled',
  'payment_returned',
  'ach_returned',
] as const;
export type EmailKind = (typeof EMAIL_KINDS)[number];

export const isEmailKind = (s: string): s is EmailKind => (EMAIL_KINDS as readonly string[]).includes(s);

export interface EmailKindSpec {
  readonly kind: EmailKind;
  readonly title: string;
  /** When Settle sends it. */
  readonly when: string;
  /** Whether the e-mail has an HTML part besides the plain text (as it had before templates). */
  readonly html: boolean;
  readonly variables: readonly VariableSpec[];
  readonly required: readonly string[];
  readonly subject: string;
  readonly body: string;
  /** Values for the preview: a made-up client with a name that must be escaped. */
  readonly sample: TemplateValues;
}

const v = (name: string, about: string, kind: VariableSpec['kind'] = 'text'): VariableSpec => ({ name, kind, about });
const MSP = v('msp_name', 'your workspace’s name (the MSP)');
const CLIENT = v('client_name', 'the client’s name, as in the PSA');
const SAMPLE = { msp_name: 'Acme IT', client_name: 'Oakridge Dental <Billing>' };
const block = (text: string, rows: string[][]): { text: string; html: string } => {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return { text, html: `<table>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>` };
};

export const EMAIL_CATALOGUE: Readonly<Record<EmailKind, EmailKindSpec>> = {
  payment_receipt: {
    kind: 'payment_receipt',
    title: 'Payment receipt',
    when: 'A payment succeeded (and when staff press “Resend receipt”).',
    html: true,
    variables: [
      MSP,
      CLIENT,
      v('total', 'the total charged, e.g. $1,280.00'),
      v('receipt_lines', 'each invoice paid, credit kept, the card surcharge and any bank discount as their own lines, and the total', 'block'),
      v('paid_with', 'the method, e.g. visa 4242'),
      v('reference', 'Settle’s reference of the payment'),
    ],
    // The surcharge must be its own line with its amount on the receipt (payments-rules.md §0.2).
    required: ['receipt_lines'],
    subject: 'Receipt: {{total}} paid to {{msp_name}}',
    body: ['Thank you for your payment to {{msp_name}}.', '', '{{receipt_lines}}', '', 'Paid with: {{paid_with}}', 'Reference: {{reference}}'].join('\n'),
    sample: {
      ...SAMPLE,
      total: '$1,280.00',
      receipt_lines: block(['Invoice 1042          $1,250.00', 'Credit card surcharge  $30.00', 'Total charged         $1,280.00'].join('\n'), [
        ['Invoice 1042', '$1,250.00'],
        ['Credit card surcharge (2.4%)', '$30.00'],
        ['Total charged', '$1,280.00'],
      ]),
      paid_with: 'visa 4242',
      reference: '7d3c1f0e-5b2a-4c8e-9f61-2a4b6c8d0e13',
    },
  },
  payment_failed: {
    kind: 'payment_failed',
    title: 'Payment failed',
    when: 'An automatic or staff-initiated payment failed (the first failure, and the last when no retry is left).',
    html: true,
    variables: [
      MSP,
      CLIENT,
      v('amount', 'the amount that could not be collected'),
      v('invoices', '“invoice 1042” or “invoices 1042, 1043”'),
      v('method', 'the method that failed, e.g. Visa ending 9995'),
      v('what_failed', 'a sentence: declined, or the reason the client may be told'),
      v('next_step', 'a sentence: when Settle tries again, or that it will not'),
      v('update_link', 'the link where the client saves a new card or bank account', 'link'),
      v('link_expires_on', 'the last day the link works'),
    ],
    required: ['update_link'],
    subject: 'Payment of {{amount}} for {{invoices}} did not go through',
    body: [
      'Hello {{client_name}},',
      '',
      '{{msp_name}} tried to collect {{amount}} for {{invoices}}.',
      '{{what_failed}}',
      '',
      '{{next_step}}',
      '{{update_link}}',
      "(This link is valid until {{link_expires_on}}. Card and bank details are entered in our payment processor's secure form.)",
      '',
      'Thank you,',
      '{{msp_name}}',
    ].join('\n'),
    sample: {
      ...SAMPLE,
      amount: '$480.00',
      invoices: 'invoice 1042',
      method: 'Visa ending 9995',
      what_failed: 'The payment from your Visa ending 9995 was declined.',
      next_step: 'We will try again on 2026-03-17. If you would rather use another card or bank account, update your payment method before then:',
      update_link: { link: 'https://pay.example.com/portal/update-method/sample', label: 'Update your payment method' },
      link_expires_on: '2026-03-28',
    },
  },
  portal_link: {
    kind: 'portal_link',
    title: 'Portal link',
    when: 'Staff press “E-mail portal link” on a client’s page.',
    html: true,
    variables: [
      MSP,
      CLIENT,
      v('amount_open', 'what the client owes now, e.g. $1,250.00 (“nothing” when nothing)'),
      v('open_summary', 'a sentence: what is open, or just that this is their link'),
      v('portal_link', 'the link to the client’s portal', 'link'),
      v('link_expires_on', 'the last day the link works'),
    ],
    required: ['portal_link'],
    subject: 'Your invoices from {{msp_name}}',
    body: [
      'Hello {{client_name}},',
      '',
      '{{open_summary}}',
      'You can see your invoices, pay them and save a payment method here:',
      '{{portal_link}}',
      "(This link is valid until {{link_expires_on}}. Card and bank details are entered in our payment processor's secure form.)",
      '',
      'Thank you,',
      '{{msp_name}}',
    ].join('\n'),
    sample: {
      ...SAMPLE,
      amount_open: '$1,250.00',
      open_summary: 'You have $1,250.00 open with Acme IT.',
      portal_link: { link: 'https://pay.example.com/portal/sample', label: 'View and pay your invoices' },
      link_expires_on: '2026-04-13',
    },
  },
  autopay_notice: {
    kind: 'autopay_notice',
    title: 'Autopay pre-debit notice',
    when: 'Before an automatic payment: the amount, the date and the invoice lines; again when the PSA changes the invoice.',
    html: true,
    variables: [
      MSP,
      CLIENT,
      v('notice_word', '“Upcoming” for a first notice, “Updated” for a corrected one'),
      v('invoice_number', 'the invoice number'),
      v('amount', 'what will be debited'),
      v('was_amount', '“(was $215.50)” on a corrected notice whose amount changed, else empty'),
      v('charge_on', 'the date of the debit'),
      v('method', 'the method debited, e.g. Visa ending 4242'),
      v('invoice_lines', 'the invoice’s lines with quantity and amount', 'block'),
      v('total', 'the invoice total'),
      v('change_note', 'on a corrected notice: what changed and what it means, else empty'),
      v('open_note', 'when part of the invoice is paid already: the total and what is still open, else empty'),
    ],
    // A pre-debit notice must tell the amount and the date (payments-rules.md: notice before the debit).
    required: ['amount', 'charge_on'],
    subject: '{{notice_word}} automatic payment: {{amount}} for invoice {{invoice_number}} on {{charge_on}} {{was_amount}}',
    body: [
      'Hello {{client_name}},',
      '',
      '{{change_note}}',
      '',
      'On {{charge_on}} (or the next day we run payments), {{msp_name}} will debit {{amount}} from your {{method}} for invoice {{invoice_number}}.',
      '',
      'The invoice:',
      '{{invoice_lines}}',
      'Total: {{total}}',
      '{{open_note}}',
      '',
      'If anything here is not right, reply to this email before {{charge_on}} and we will hold the payment.',
      '',
      '{{msp_name}}',
    ].join('\n'),
    sample: {
      ...SAMPLE,
      notice_word: 'Upcoming',
      invoice_number: '1042',
      amount: '$215.50',
      was_amount: '',
      charge_on: '2026-03-20',
      method: 'Visa ending 4242',
      invoice_lines: block('  Managed services × 10: $200.00\n  Backup storage × 1: $15.50', [
        ['Managed services', '10', '$200.00'],
        ['Backup storage', '1', '$15.50'],
      ]),
      total: '$215.50',
      change_note: '',
      open_note: '',
    },
  },
  autopay_cancelled: {
    kind: 'autopay_cancelled',
    title: 'Autopay cancelled',
    when: 'A client was told of an automatic payment that will not be taken after all.',
    html: true,
    variables: [
      MSP,
      CLIENT,
      v('invoice_number', 'the invoice number'),
      v('amount', 'the amount the notice announced'),
      v('reason', 'why, e.g. “the invoice was voided”'),
    ],
    required: ['invoice_number'],
    subject: 'No automatic payment will be taken for invoice {{invoice_number}}',
    body: [
      'Hello {{client_name}},',
      '',
      'We told you that {{msp_name}} would debit {{amount}} for invoice {{invoice_number}}. That payment will not be taken: {{reason}}.',
      '',
      '{{msp_name}}',
    ].join('\n'),
    sample: { ...SAMPLE, invoice_number: '1042', amount: '$215.50', reason: 'the invoice was voided' },
  },
  payment_returned: {
    kind: 'payment_returned',
    title: 'Payment returned',
    when: 'A bank payment that had succeeded came back (an ACH return through the processor).',
    html: false,
    variables: [
      MSP,
      CLIENT,
      v('amount', 'the amount returned, e.g. 480.00 USD'),
      v('account_last4', 'the last four digits of the account, or empty'),
      v('return_code', 'the return code, e.g. R01, or empty'),
      v('reason', 'the reason given'),
      v('what_happened', 'a sentence with the amount, the account, the code and the reason'),
      v('reopened_invoices', 'a sentence naming the invoices open again, or empty'),
    ],
    required: ['amount'],
    subject: 'Your payment of {{amount}} was returned by your bank',
    body: [
      'Hello {{client_name}},',
      '',
      '{{what_happened}}',
      '{{reopened_invoices}}',
      'Please pay again from your payment portal, or contact us if you think this is a mistake.',
      '',
      '{{msp_name}}',
    ].join('\n'),
    sample: {
      ...SAMPLE,
      amount: '480.00 USD',
      account_last4: '6789',
      return_code: 'R01',
      reason: 'insufficient funds',
      what_happened: 'Your bank returned the payment of 480.00 USD from the account ending 6789 (return code R01): insufficient funds.',
      reopened_invoices: 'Invoice 1042 is therefore open again.',
    },
  },
  ach_returned: {
    kind: 'ach_returned',
    title: 'Bank debit returned',
    when: 'The MSP’s bank returned one of Settle’s own ACH debits (NACHA files).',
    html: false,
    variables: [
      MSP,
      CLIENT,
      v('amount', 'the amount of the debit'),
      v('account_last4', 'the last four digits of the account'),
      v('return_code', 'the bank’s return code, e.g. R01'),
      v('return_reason', 'the bank’s description of the code'),
      v('next_step', 'a sentence: when the debit is presented again, or what the client should do'),
    ],
    required: ['amount'],
    subject: '{{msp_name}}: your bank returned a debit of {{amount}}',
    body: [
      'Hello {{client_name}},',
      '',
      'Your bank returned our debit of {{amount}} from the account ending {{account_last4}}.',
      'Reason given by the bank: {{return_code}} — {{return_reason}}.',
      '',
      '{{next_step}}',
      '',
      '— {{msp_name}}',
    ].join('\n'),
    sample: {
      ...SAMPLE,
      amount: '$480.00',
      account_last4: '6789',
      return_code: 'R01',
      return_reason: 'Insufficient funds',
      next_step: 'We will present the debit to your bank again on 2026-03-19, for the same amount. Please make sure the funds are available.',
    },
  },
};
