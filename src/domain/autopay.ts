// Autopay decisions, pure: which rule applies to an invoice, when it is charged, whether staff must approve
// the amount, and what a change of the invoice after the pre-debit notice means for the client. The engine
// (engine/run-autopay.ts) reads the rows and the clock and passes them in.
//
// Shape of the rules after the MSP billing tools in payments-rules.md §4.2 (ConnectBooster: per-client
// AutoPay, trigger relative to due date or invoice date, only selected agreement types, only invoices under a
// $ cap, ordered rules, client lock).
import { addDays, maxDate, type IsoDate } from './rules/calendar-date.ts';
import { contractJumps, hasContracts, uncoveredKinds, type ContractTotal } from './autopay-contracts.ts';

export type AutopayAnchor = 'due_date' | 'invoice_date';
export type AutopayMethodKind = 'card' | 'us_bank_account';

export interface AutopayRule {
  readonly id: string;
  /** null: a workspace rule; else the client's own rule. */
  readonly clientId: string | null;
  readonly position: number;
  readonly enabled: boolean;
  /** PSA invoice types (`agreement`, `standard`, …); null = any. */
  readonly invoiceTypes: readonly string[] | null;
  /** Every line of the invoice must be of one of these kinds; null = any. */
  readonly lineKinds: readonly string[] | null;
  /**
   * Contract kinds the rule charges automatically (domain/contracts.ts, `none` = no contract); an invoice it
   * matches with a line of another kind waits for staff approval. null or absent = any.
   */
  readonly contractKinds?: readonly string[] | null;
  readonly currency: string | null;
  /** Above this the charge waits for staff approval; null = no cap. */
  readonly approvalCapMinor: bigint | null;
  readonly anchor: AutopayAnchor;
  readonly offsetDays: number;
  readonly methodKinds: readonly AutopayMethodKind[];
  /** Days of pre-debit notice; null = the workspace's setting. */
  readonly noticeDays: number | null;
}

/** What of the invoice (the PSA's current version) rules can look at. */
export interface InvoiceFacts {
  readonly type: string;
  readonly currency: string;
  readonly lineKinds: readonly string[];
  readonly issuedOn: IsoDate;
  readonly dueOn: IsoDate | null;
}

export interface RuleMatch {
  readonly rule: AutopayRule;
  readonly chargeOn: IsoDate;
}

/**
 * The rules an invoice of this client is tried against, in order: the client's own rules, then the
 * workspace's, each by position (ties by id so the order is total). A client locked to a rule gets that
 * rule only — even if it is disabled, which then means "no autopay" rather than "any other rule".
 */
export function candidateRules(rules: readonly AutopayRule[], clientId: string, lockedRuleId: string | null): AutopayRule[] {
  if (lockedRuleId !== null) return rules.filter((r) => r.id === lockedRuleId && (r.clientId === null || r.clientId === clientId));
  const byOrder = (a: AutopayRule, b: AutopayRule): number => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const own = rules.filter((r) => r.clientId === clientId).sort(byOrder);
  const shared = rules.filter((r) => r.clientId === null).sort(byOrder);
  return [...own, ...shared];
}

/** The charge date a rule gives an invoice, or null when the rule's anchor date is missing. */
export function chargeDate(rule: AutopayRule, invoice: InvoiceFacts): IsoDate | null {
  const anchor = rule.anchor === 'due_date' ? invoice.dueOn : invoice.issuedOn;
  return anchor === null ? null : addDays(anchor, rule.offsetDays);
}

export function ruleMatches(rule: AutopayRule, invoice: InvoiceFacts): boolean {
  if (!rule.enabled) return false;
  if (rule.invoiceTypes !== null && !rule.invoiceTypes.includes(invoice.type)) return false;
  if (rule.currency !== null && rule.currency !== invoice.currency) return false;
  if (rule.lineKinds !== null) {
    const allowed = rule.lineKinds;
    // An invoice without lines cannot show that it is (say) agreement products only: no match.
    if (invoice.lineKinds.length === 0 || !invoice.lineKinds.every((k) => allowed.includes(k))) return false;
  }
  return chargeDate(rule, invoice) !== null;
}

/** The first candidate rule that matches, with the invoice's charge date; null = no autopay for it. */
export function matchRule(rules: readonly AutopayRule[], clientId: string, lockedRuleId: string | null, invoice: InvoiceFacts): RuleMatch | null {
  for (const rule of candidateRules(rules, clientId, lockedRuleId)) {
    if (ruleMatches(rule, invoice)) return { rule, chargeOn: chargeDate(rule, invoice)! };
  }
  return null;
}

// ---- approval gates -------------------------------------------------------------------------

export type ApprovalReason = 'over_cap' | 'amount_jump' | 'contract_not_covered';

export interface ApprovalInput {
  /** What would be charged now. */
  readonly amountMinor: bigint;
  readonly capMinor: bigint | null;
  /** The invoice's total, compared with the client's previous invoice's total. */
  readonly totalMinor: bigint;
  readonly previousTotalMinor: bigint | null;
  /** null: the jump check is off. */
  readonly jumpPercent: number | null;
  /**
   * The invoice's lines by contract, each with the same contract's lines on its previous invoice
   * (autopay-contracts.ts). When any line has a contract, the jump is judged per contract instead of on totals.
   */
  readonly contracts?: readonly ContractTotal[];
  /** The rule's contract kinds (AutopayRule.contractKinds); null or absent = any. */
  readonly coveredKinds?: readonly string[] | null;
}

/** Why staff must approve this charge (empty: no approval needed). Integer arithmetic only. */
export function approvalReasons(i: ApprovalInput): ApprovalReason[] {
  const out: ApprovalReason[] = [];
  if (i.capMinor !== null && i.amountMinor > i.capMinor) out.push('over_cap');
  if (i.jumpPercent !== null && i.contracts && hasContracts(i.contracts)) {
    if (contractJumps(i.contracts, i.jumpPercent).length > 0) out.push('amount_jump');
  } else if (i.jumpPercent !== null && i.previousTotalMinor !== null && i.previousTotalMinor > 0n) {
    // total > previous × (1 + p/100)  ⇔  total × 100 > previous × (100 + p)
    if (i.totalMinor * 100n > i.previousTotalMinor * BigInt(100 + i.jumpPercent)) out.push('amount_jump');
  }
  if (i.contracts && uncoveredKinds(i.contracts, i.coveredKinds).length > 0) out.push('contract_not_covered');
  return out;
}

/** An approval for an amount covers that amount or less (any later version of the invoice). */
export function approvalCovers(approvedAmountMinor: bigint, amountMinor: bigint): boolean {
  return amountMinor <= approvedAmountMinor;
}

// ---- notice and hold ------------------------------------------------------------------------

/** The day the pre-debit notice goes out for a charge on `chargeOn`. */
export function noticeDueOn(chargeOn: IsoDate, noticeDays: number): IsoDate {
  return addDays(chargeOn, -noticeDays);
}

export interface Noticed {
  readonly version: number;
  readonly amountMinor: bigint;
  /** Earliest charge date given with that notice. */
  readonly notBefore: IsoDate;
}

export type NoticeChange = 'first' | 'increased' | 'decreased' | 'content_changed' | 'none';

/** How what the client was told compares with what would be charged now. */
export function noticeChange(noticed: Noticed | null, current: { version: number; amountMinor: bigint }): NoticeChange {
  if (noticed === null) return 'first';
  if (current.amountMinor > noticed.amountMinor) return 'increased';
  if (current.amountMinor < noticed.amountMinor) return 'decreased';
  return current.version !== noticed.version ? 'content_changed' : 'none';
}

/**
 * The earliest charge date after a (new) notice sent today. The policy (docs/architecture.md "Autopay"):
 * the client always has `noticeDays` full days of notice of any amount that is MORE than a notice already
 * told them — so a first notice and an increase start the hold again; a lower amount or a change of the lines
 * at the same amount gets a corrected notice but keeps the date (the client is never debited more, or
 * earlier, than a notice said). Never before the rule's charge date.
 */
export function holdAfterNotice(
  change: Exclude<NoticeChange, 'none'>,
  chargeOn: IsoDate,
  today: IsoDate,
  noticeDays: number,
  previous: Noticed | null,
): IsoDate {
  const fullHold = maxDate(chargeOn, addDays(today, noticeDays));
  if (change === 'first' || change === 'increased' || previous === null) return fullHold;
  return maxDate(chargeOn, previous.notBefore);
}
