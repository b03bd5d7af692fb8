// The audit log in plain words for the staff page and its CSV: what each action means, who an actor is, where
// a subject's own page is, and what a settings change changed (before → after). An action not named here
// (a new one, or one from an older version) is shown as it is written in the log rather than hidden.
import { vendorName } from '../../engine/posting-exceptions.ts';

export const ACTION_WORDS: Readonly<Record<string, string>> = {
  'accounting.payments_posted': 'Payments posted to the books',
  'ach.run_requested': 'Bank ACH run requested',
  'ach_bank_account.corrected': 'Bank account corrected by the bank (change notice)',
  'ach_bank_account.disabled': 'Bank account disabled',
  'ach_bank_account.validated': 'Bank account validated',
  'ach_entry.cancelled': 'ACH debit cancelled',
  'ach_entry.returned': 'ACH debit returned by the bank',
  'ach_file.built': 'ACH file built',
  'ach_file.sent': 'ACH file sent to the bank',
  'ach_inbound_file.unreadable': 'File from the bank could not be read',
  'ach_mandate.accepted': 'Debit authorization accepted',
  'ach_mandate.revoked': 'Debit authorization revoked',
  'ach_return.bank_debit': 'ACH return taken from the bank account',
  'ach_settlement.deposited': 'ACH settlement deposited',
  'api_key.created': 'API key created',
  'api_key.revoked': 'API key revoked',
  'autopay.approval_requested': 'Autopay charge waiting for approval',
  'autopay.cancelled': 'Autopay charge cancelled',
  'autopay.charged': 'Autopay charge made',
  'autopay.client_enrolled': 'Client enrolled in autopay in the portal (terms agreed)',
  'autopay.client_left': 'Client left autopay in the portal',
  'autopay.client_settings_changed': 'Client autopay settings changed',
  'autopay.fallback_method': 'Autopay used the backup payment method',
  'autopay.notice_sent': 'Pre-debit notice sent',
  'autopay.rule_created': 'Autopay rule created',
  'autopay.rule_deleted': 'Autopay rule deleted',
  'autopay.rule_updated': 'Autopay rule changed',
  'autopay.settings_changed': 'Autopay settings changed',
  'autopay.approval_approved': 'Autopay charge approved',
  'autopay.approval_rejected': 'Autopay charge rejected',
  'bank_line.matched': 'Bank statement line matched',
  'bank_statement.read': 'Bank statement read',
  'bank_statement.unreadable': 'Bank statement could not be read',
  'client.surcharge_updated': 'Client surcharge settings changed',
  'connection.accounts_changed': 'Books accounts changed',
  'connection.callback_registered': 'PSA callback registered',
  'connection.disconnected': 'Connection disconnected',
  'connection.saved': 'Connection saved',
  'credit.applied': 'Client credit applied',
  'credit.created': 'Client credit created',
  'credit.refund_decided': 'Credit refund decided',
  'deposit.payment_linked': 'Payment linked to a books deposit',
  'deposit.posted': 'Deposit posted to the books',
  'dispute.lost': 'Dispute lost',
  'dispute.opened': 'Dispute opened',
  'dispute.unexpected': 'Unexpected dispute news',
  'dispute.won': 'Dispute won',
  'exception.opened': 'Problem raised in Needs attention',
  'exception.reopened': 'Problem reopened',
  'exception.resolved': 'Problem resolved',
  'exception.dismissed': 'Problem dismissed',
  'exception.retry_requested': 'Retry requested from Needs attention',
  'installment.charge_requested': 'Installment charge requested',
  'installment.part_skipped': 'Installment part skipped',
  'installment_plan.cancelled': 'Installment plan cancelled',
  'installment_plan.completed': 'Installment plan completed',
  'installment_plan.created': 'Installment plan created',
  'instance_key.rotated': 'Encryption key rotated',
  'invoice.books_number_mapped': 'Books invoice number mapped',
  'invoice.changed_in_psa': 'Invoice changed in the PSA',
  'payment.ach_debit_originated': 'ACH debit started',
  'payment.ach_discount_granted': 'ACH discount granted',
  'payment.ach_reinitiated': 'ACH debit sent again',
  'payment.ach_returned': 'ACH payment returned',
  'payment.attempt_declined': 'Payment attempt declined',
  'payment.charge_requested': 'Charge requested',
  'payment.checkout_canceled': 'Portal checkout expired',
  'payment.failed': 'Payment failed',
  'payment.retry_cancelled': 'Payment retry cancelled',
  'payment.retry_deferred': 'Payment retry postponed',
  'payment.retry_not_scheduled': 'No retry scheduled',
  'payment.retry_scheduled': 'Payment retry scheduled',
  'payment.retry_started': 'Payment retry started',
  'payment.retry_stopped': 'Payment retries stopped',
  'payment.returned': 'Payment returned',
  'payment.settled': 'Payment settled',
  'payment.started': 'Payment started',
  'payment.submission_reversed': 'Payment submission reversed',
  'payment.submitted': 'Payment submitted',
  'payment.succeeded': 'Payment succeeded',
  'payment.succeeded_after_failure': 'Payment succeeded after a failure',
  'payment.resubmitted_after_failure': 'Failed payment confirmed again, processing',
  'reconciliation.drift_found': 'Reconciliation found drift',
  'reconciliation.fix_applied': 'Reconciliation fix applied',
  'reconciliation.zero_drift': 'Reconciliation: zero drift',
  'refund.not_booked': 'Refund of a payment already taken back (not booked)',
  'payment_method.default_changed': 'Default payment method changed',
  'payment_method.default_set': 'Default payment method set',
  'payment_method.removed': 'Payment method removed by the client',
  'payment_method.saved': 'Payment method saved',
  'payment_method.setup_started': 'Payment method update started',
  'payout.reconciled': 'Payout reconciled',
  'permission.refused': 'Access refused',
  'portal_link.created': 'Portal link made',
  'portal_link.emailed': 'Portal link e-mailed',
  'posting.failed': 'Posting failed',
  'posting.gone_in_books': 'Posting no longer in the books',
  'posting.gone_in_psa': 'Posting no longer in the PSA',
  'posting.posted': 'Posted',
  'posting.retry_requested': 'Posting retry requested',
  'posting.waiting': 'Posting waiting',
  'psa.failure_not_recorded': 'Failure not recorded in the PSA',
  'psa.failure_recorded': 'Failure recorded in the PSA',
  'receipt.resent': 'Receipt sent again',
  'refund.failed': 'Refund failed',
  'refund.failed_after_success': 'Refund failed after succeeding',
  'refund.requested': 'Refund requested',
  'refund.succeeded': 'Refund succeeded',
  'refund.unexpected': 'Refund made outside Settle',
  'settings.branding_changed': 'Branding changed',
  'settings.email_template_changed': 'E-mail wording changed',
  'settings.installment_offer_changed': 'Installment offer changed',
  'settings.lifecycle_changed': 'When payments count as paid changed',
  'settings.portal_framing_changed': 'Portal framing sites changed',
  'settings.retry_policy_changed': 'Retry policy changed',
  'settings.staff_mfa_required': 'Second factor requirement changed',
  'settings.surcharge_updated': 'Surcharge settings changed',
  'settings.timezone_changed': 'Workspace timezone changed',
  'setup.import_started': 'First import started',
  'setup.pilot_chosen': 'Pilot clients chosen',
  'surcharge.quoted': 'Surcharge quoted',
  'user.added': 'Staff member added',
  'webhook.delivery_replayed': 'Webhook delivery replayed',
  'webhook.secret_rotated': 'Webhook secret rotated',
  'webhook.subscription_changed': 'Webhook changed',
  'webhook.subscription_created': 'Webhook added',
  'webhook.subscription_disabled': 'Webhook disabled',
  'webhook.subscription_enabled': 'Webhook enabled',
  'user.invitation_accepted': 'Invitation accepted',
  'user.invitation_link_created': 'Invitation link made',
  'user.invited': 'Staff member invited',
  'user.mfa_disabled': 'Second factor turned off',
  'user.mfa_enabled': 'Second factor turned on',
  'user.mfa_recovery_code_used': 'Recovery code used',
  'user.mfa_recovery_codes_replaced': 'Recovery codes replaced',
  'user.password_changed': 'Password changed',
  'user.password_rehashed': 'Password storage upgraded',
  'user.password_reset': 'Password reset',
  'user.password_reset_link_created': 'Password reset link made',
  'user.removed': 'Staff member removed',
  'user.second_factor_failed': 'Wrong second-factor code',
  'user.sessions_ended': 'Sessions ended',
  'user.sign_in_failed': 'Sign-in failed',
  'user.sign_in_locked': 'Sign-in locked',
  'user.sign_in_unlocked': 'Sign-in lock lifted',
  'user.signed_in': 'Signed in',
  'user.signed_out': 'Signed out',
  'workspace.created': 'Workspace created',
};

export const actionWords = (action: string): string => ACTION_WORDS[action] ?? action;

export const SUBJECT_WORDS: Readonly<Record<string, string>> = {
  payment: 'Payment',
  invoice: 'Invoice',
  client: 'Client',
  payout: 'Payout',
  posting: 'Posting',
  exception: 'Needs-attention item',
  autopay_approval: 'Autopay approval',
  autopay_rule: 'Autopay rule',
  installment_plan: 'Installment plan',
  connection: 'Connection',
  user: 'Staff member',
  api_key: 'API key',
  tenant: 'Workspace settings',
  workspace: 'Workspace',
  route: 'Page or API route',
};

export const subjectWords = (type: string): string => SUBJECT_WORDS[type] ?? type;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The staff page a subject is shown on, where there is one. */
export function subjectHref(type: string, id: string | null): string | null {
  const byId: Record<string, string> = {
    payment: '/app/payments/',
    invoice: '/app/invoices/',
    client: '/app/clients/',
    payout: '/app/payouts/',
    autopay_approval: '/app/autopay/approvals/',
    autopay_rule: '/app/autopay/rules/',
    webhook_subscription: '/app/settings/webhooks/',
  };
  if (byId[type]) return id && UUID.test(id) ? `${byId[type]}${id}` : null;
  const pages: Record<string, string> = { connection: '/app/connections', api_key: '/api-keys', user: '/users', tenant: '/app/settings' };
  return pages[type] ?? null;
}

const SYSTEM_WORDS: Record<string, string> = {
  cli: 'the command line',
  start: 'start-up',
  demo: 'the demo set-up',
  worker: 'a background job',
  setup: 'the set-up wizard',
};

/** Who did it, in words: a name found for the actor, else what the actor string says. */
export function actorWords(actor: string, names: ReadonlyMap<string, string>): string {
  const known = names.get(actor);
  if (known) return known;
  const i = actor.indexOf(':');
  const kind = actor.slice(0, i);
  const rest = actor.slice(i + 1);
  switch (kind) {
    case 'user':
      return `A former staff member (${rest})`;
    case 'api_key':
      return `A deleted API key (${rest})`;
    case 'client':
      return 'A client in the portal';
    case 'system':
      return `Settle (${SYSTEM_WORDS[rest] ?? rest.replace(/[-_]/g, ' ')})`;
    case 'vendor':
      return vendorName(rest);
    default:
      return actor;
  }
}

export interface DetailChange {
  readonly field: string;
  readonly from: string;
  readonly to: string;
}

const shown = (v: unknown): string => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A settings change's before → after, field by field, when the detail has one of the two shapes Settle
 * writes: { before: {...}, after: {...} } or { field: { from, to[, from_name, to_name] }, ... }. Otherwise [].
 */
export function detailChanges(detail: unknown): DetailChange[] {
  if (!isObject(detail)) return [];
  if (isObject(detail.before) && isObject(detail.after)) {
    const before = detail.before;
    const after = detail.after;
    return [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
      .map((k) => ({ field: k.replace(/_/g, ' '), from: shown(before[k]), to: shown(after[k]) }));
  }
  const entries = Object.entries(detail);
  if (!entries.length || !entries.every(([, v]) => isObject(v) && 'from' in v && 'to' in v)) return [];
  return entries
    .map(([k, v]) => v as Record<string, unknown>)
    .map((v, i) => ({ k: entries[i]![0], v }))
    .filter(({ v }) => JSON.stringify(v.from) !== JSON.stringify(v.to))
    .map(({ k, v }) => ({ field: k.replace(/_/g, ' '), from: shown(v.from_name ?? v.from), to: shown(v.to_name ?? v.to) }));
}

/** The detail as indented JSON for the expandable part of a row ("" for an empty detail). */
export function detailText(detail: unknown): string {
  if (detail === null || detail === undefined || (isObject(detail) && Object.keys(detail).length === 0)) return '';
  return JSON.stringify(detail, null, 2);
}
