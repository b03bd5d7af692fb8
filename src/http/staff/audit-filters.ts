// The audit log page's query string: what the person asked for (period, actor, action, subject, text, page),
// checked, with an error per field in plain words, and the chips that remove one filter each. Shared by the
// page and the CSV export so both show exactly the same rows.
import { ACTOR_KINDS, type ActorKind, type AuditCursor } from '../../db/queries/audit-log.ts';
import { actionWords, subjectWords } from './audit-words.ts';
import type { FieldError, Query } from './invoices-filters.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const validDate = (v: string): boolean => DATE.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);

export const ACTOR_KIND_WORDS: Readonly<Record<ActorKind, string>> = {
  user: 'Any staff member',
  api_key: 'Any API key',
  system: 'Settle itself (background work)',
  client: 'Clients in the portal',
  vendor: 'The PSA, processor or bank',
};

/** The filters' own parameters (not paging), in the order their chips are shown. */
const FILTER_KEYS = ['from', 'to', 'actor', 'action', 'subject_type', 'subject', 'q'] as const;

export interface AuditRequest {
  /** The valid parameters as given (for the form, the chips and the links). */
  readonly given: Record<string, string>;
  readonly after: AuditCursor | null;
  readonly before: AuditCursor | null;
  readonly errors: FieldError[];
}

export function parseAuditQuery(q: Query): AuditRequest {
  const given: Record<string, string> = {};
  const errors: FieldError[] = [];
  for (const f of ['from', 'to'] as const) {
    const v = q[f]?.trim();
    if (!v) continue;
    if (validDate(v)) given[f] = v;
    else errors.push({ field: f, message: `Enter the ${f === 'from' ? 'first' : 'last'} day as a date, for example 2026-03-01` });
  }
  if (given.from && given.to && given.from > given.to) errors.push({ field: 'to', message: 'The last day must be on or after the first day' });
  const actor = q.actor?.trim();
  if (actor) {
    const [kind, id] = actor.split(':', 2) as [string, string | undefined];
    const okKind = (ACTOR_KINDS as readonly string[]).includes(kind);
    if (okKind && (id === undefined || ((kind === 'user' || kind === 'api_key') && UUID.test(id)))) given.actor = actor.toLowerCase();
    else errors.push({ field: 'actor', message: 'Choose who did it from the list' });
  }
  const action = q.action?.trim();
  if (action) {
    if (/^[a-z0-9_.-]{1,100}$/.test(action)) given.action = action;
    else errors.push({ field: 'action', message: 'Choose what happened from the list' });
  }
  const type = q.subject_type?.trim();
  if (type) {
    if (/^[a-z_]{1,40}$/.test(type)) given.subject_type = type;
    else errors.push({ field: 'subject_type', message: 'Choose the kind of record from the list' });
  }
  const subject = q.subject?.trim();
  if (subject) {
    if (subject.length > 200) errors.push({ field: 'subject', message: 'Enter an id or invoice number of at most 200 characters' });
    else if (!type) errors.push({ field: 'subject_type', message: 'Choose the kind of record the id belongs to (a payment, an invoice, …)' });
    else given.subject = subject;
  }
  const text = q.q?.trim();
  if (text) {
    if (text.length > 100) errors.push({ field: 'q', message: 'Search the details for at most 100 characters' });
    else given.q = text;
  }
  return { given, after: decodeCursor(q.after), before: decodeCursor(q.before), errors };
}

/** The actor condition for the query: one actor exactly, or every actor of a kind. */
export function actorFilter(given: Record<string, string>): { actor?: string; actorKind?: ActorKind } {
  const a = given.actor;
  if (!a) return {};
  return a.includes(':') ? { actor: a } : { actorKind: a as ActorKind };
}

/** A cursor in a URL: base64url of [created_at to the microsecond, id]. A malformed one is ignored. */
export function encodeCursor(c: AuditCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id])).toString('base64url');
}

export function decodeCursor(v: string | undefined): AuditCursor | null {
  if (!v || v.length > 200) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(v, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2) return null;
    const [at, id] = parsed as unknown[];
    if (typeof at !== 'string' || typeof id !== 'string') return null;
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(at) || !/^\d{1,18}$/.test(id)) return null;
    return { at, id };
  } catch {
    return null;
  }
}

export function auditHref(params: Record<string, string | undefined>, base = '/app/settings/audit'): string {
  const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1]));
  return s.size ? `${base}?${s}` : base;
}

/** One chip per filter in use; following it removes that filter and keeps the rest. */
export function auditChips(given: Record<string, string>, actorName: string | null): { label: string; href: string }[] {
  const label = (k: string, v: string): string => {
    switch (k) {
      case 'from':
        return `From ${v}`;
      case 'to':
        return `Until ${v}`;
      case 'actor':
        return `By ${actorName ?? ACTOR_KIND_WORDS[v as ActorKind] ?? v}`;
      case 'action':
        return `What: ${actionWords(v)}`;
      case 'subject_type':
        return `Record: ${subjectWords(v)}`;
      case 'subject':
        return `Id or number: ${v}`;
      case 'q':
        return `Detail contains: ${v}`;
      default:
        return v;
    }
  };
  return FILTER_KEYS.filter((k) => given[k]).map((k) => ({
    label: label(k, given[k]!),
    // Removing the kind of record removes its id too (an id alone is not a filter).
    href: auditHref(Object.fromEntries(Object.entries(given).filter(([x]) => x !== k && !(k === 'subject_type' && x === 'subject')))),
  }));
}
