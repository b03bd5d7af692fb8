// The wording of a reminder: each step of a sequence has its own subject and body, written in the same
// `{{variable}}` syntax as every other client e-mail (notify/templates/syntax.ts — plain text, escaped into
// HTML, never a template language run in Settle's process). This file names the variables a reminder offers,
// the defaults by step of the reference cadence (payments-rules.md §4.1) and composes the e-mail.
import { DEFAULT_DUNNING_CADENCE, type DunningStep, type ReminderTone } from '../../domain/rules/dunning.ts';
import {
  checkTemplate,
  renderHtml,
  renderSubject,
  renderText,
  type TemplateProblem,
  type TemplateValues,
  type VariableSpec,
} from '../../notify/templates/syntax.ts';

const v = (name: string, about: string, kind: VariableSpec['kind'] = 'text'): VariableSpec => ({ name, kind, about });

export const REMINDER_VARIABLES: readonly VariableSpec[] = [
  v('msp_name', 'your workspace’s name, or the sender name of your branding'),
  v('client_name', 'the client’s name, as in the PSA'),
  v('total', 'what the reminded invoices still owe, e.g. $1,250.00'),
  v('invoice_numbers', '“invoice 1042” or “invoices 1042, 1043”'),
  v('due_summary', 'a sentence: when the invoices are or were due'),
  v('invoices', 'each reminded invoice with its due date, open amount and lines', 'block'),
  v('portal_link', 'the link where the client sees and pays their invoices', 'link'),
  v('statement_link', 'the statement of account (PDF of every open invoice with aging), on steps that attach it', 'link'),
  v('promise_link', 'the link where the client tells you when they will pay, or disputes an invoice', 'link'),
  v('reply_to', 'the address replies go to (your branding’s reply-to), or empty'),
];
/** A reminder the client cannot act on is no reminder: the invoices and a way to pay must be in it. */
export const REMINDER_REQUIRED: readonly string[] = ['invoices', 'portal_link'];

export const reminderProblems = (subject: string, body: string): TemplateProblem[] => checkTemplate(subject, body, REMINDER_VARIABLES, REMINDER_REQUIRED);

const SIGN = ['', 'Thank you,', '{{msp_name}}'];
const PAY = ['You can see and pay them here:', '{{portal_link}}'];
// A line of only a link vanishes when the step does not include the statement (its value is empty then).
const STATEMENT = ['{{statement_link}}'];
const PROMISE = ['If you cannot pay now, tell us when you will, or let us know if something on an invoice is wrong:', '{{promise_link}}'];

/** Default wording by tone; the §4.1 actions a step carries add their sentences (plan offered, late fee). */
function defaultBody(tone: ReminderTone, step: Pick<DunningStep, 'actions' | 'offsetDays'>): string {
  const lines: string[] = ['Hello {{client_name}},', ''];
  if (step.offsetDays < 0) lines.push('A friendly reminder: {{invoice_numbers}} for {{total}} will soon be due. {{due_summary}}');
  else if (step.offsetDays === 0)
    lines.push('{{invoice_numbers}} for {{total}} is due today. If you have already paid, thank you — please ignore this e-mail.');
  else if (tone === 'neutral') lines.push('Our records show {{invoice_numbers}} for {{total}} still open. {{due_summary}} Could you confirm you received it?');
  else if (tone === 'firm') lines.push('{{invoice_numbers}} for {{total}} is overdue. {{due_summary}} Please pay it, or tell us the date you will.');
  else lines.push('This is our final notice: {{invoice_numbers}} for {{total}} remains unpaid. {{due_summary}} Please pay within 7 days or contact us.');
  lines.push('', '{{invoices}}', '', ...PAY);
  if (step.actions.includes('offer_payment_plan')) lines.push('If paying it all at once is difficult, reply to this e-mail and we can agree a payment plan.');
  if (step.actions.includes('state_late_fee')) lines.push('Where your agreement with us provides for late fees, they may now apply.');
  if (step.offsetDays >= 7) lines.push('', ...STATEMENT);
  if (step.offsetDays > 0) lines.push('', ...PROMISE);
  lines.push(...SIGN);
  return lines.join('\n');
}

const SUBJECTS: Record<ReminderTone, (offset: number) => string> = {
  friendly: (o) => (o < 0 ? 'Reminder: {{invoice_numbers}} from {{msp_name}} is due soon' : '{{invoice_numbers}} from {{msp_name}} is due today'),
  neutral: () => '{{invoice_numbers}} from {{msp_name}} is past due',
  firm: () => 'Overdue: {{invoice_numbers}} ({{total}}) from {{msp_name}}',
  formal: () => 'Final notice: {{invoice_numbers}} ({{total}}) from {{msp_name}}',
};

export interface StepDraft {
  readonly key: string;
  readonly offsetDays: number;
  readonly tone: ReminderTone;
  readonly subject: string;
  readonly body: string;
  readonly attachStatement: boolean;
  /** The statement PDF attached to the e-mail, not only linked (implies attachStatement). */
  readonly statementAttached: boolean;
  readonly notifyStaff: boolean;
  readonly psaNote: boolean;
  readonly escalate: boolean;
}

/**
 * The default sequence: the reference cadence (DEFAULT_DUNNING_CADENCE). Its last step (review_60, an
 * "escalation review") becomes a formal final e-mail that hands the invoice to staff; +14 also notes it in
 * the PSA where the account manager works.
 */
export function defaultSteps(): StepDraft[] {
  return DEFAULT_DUNNING_CADENCE.map((s) => {
    const escalate = s.actions.includes('escalation_review');
    return {
      key: s.key,
      offsetDays: s.offsetDays,
      tone: s.tone,
      subject: SUBJECTS[s.tone](s.offsetDays),
      body: defaultBody(s.tone, s),
      attachStatement: s.offsetDays >= 7,
      statementAttached: false,
      notifyStaff: escalate,
      psaNote: s.actions.includes('suggest_work_pause') || escalate,
      escalate,
    };
  });
}

/** A new step's wording when staff add one: the default of its tone. */
export const draftFor = (tone: ReminderTone, offsetDays: number): Pick<StepDraft, 'subject' | 'body'> => ({
  subject: SUBJECTS[tone](offsetDays),
  body: defaultBody(tone, { offsetDays, actions: ['email'] }),
});

export const STATEMENT_LABEL = 'Your statement of account (PDF): every open invoice and how long it has been due';
/** On a step that attaches the PDF: the link stays (an attachment a mail filter strips is not lost). */
export const STATEMENT_ATTACHED_LABEL = 'Your statement of account is attached (PDF); it is also here';

export interface ComposedReminder {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export function composeReminder(t: { subject: string; body: string }, values: TemplateValues): ComposedReminder {
  return { subject: renderSubject(t.subject, values), text: renderText(t.body, values), html: renderHtml(t.body, values) };
}

/** Sample values for the staff page's preview (a name that must be escaped, as the e-mail settings do). */
export const SAMPLE_REMINDER: TemplateValues = {
  msp_name: 'Acme IT',
  client_name: 'Oakridge Dental <Billing>',
  total: '$1,250.00',
  invoice_numbers: 'invoice 1042',
  due_summary: 'It was due on 2026-03-01 (14 days ago).',
  invoices: {
    text: 'Invoice 1042, due 2026-03-01, open $1,250.00\n  Managed services × 10: $1,000.00\n  Backup storage × 1: $250.00',
    html: '<table><tr><td>Invoice 1042</td><td>due 2026-03-01</td><td>$1,250.00</td></tr><tr><td>Managed services × 10</td><td></td><td>$1,000.00</td></tr></table>',
  },
  portal_link: { link: 'https://pay.example.com/portal/sample', label: 'View and pay your invoices' },
  statement_link: { link: 'https://pay.example.com/portal/sample/statement.pdf', label: STATEMENT_LABEL },
  promise_link: { link: 'https://pay.example.com/portal/sample/promise', label: 'Tell us when you will pay' },
  reply_to: 'billing@acme-it.example',
};
