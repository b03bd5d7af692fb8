// Class and location (QuickBooks' Department) on what Settle posts, and the live lists the settings page
// picks them from. Where QuickBooks takes them (Finance.xsd): DepartmentRef on every transaction's header
// (Payment, Deposit, JournalEntry); ClassRef only per line — DepositLineDetail and JournalEntryLineDetail —
// and JournalEntryLineDetail has a DepartmentRef of its own. A Payment has no ClassRef, and a deposit line
// that links a payment has no line detail, so those carry none. A company turns them on in Preferences
// (AccountingInfoPrefs.ClassTrackingPerTxn / ClassTrackingPerTxnLine, TrackDepartments); without a mapped
// class or location nothing is sent and nothing changes.
import { VendorError } from '../../http.ts';
import type { QboApi } from './api.ts';
import type { PostResult } from '../types.ts';

type Json = Record<string, unknown>;

/** The mapping chosen in Settings → Accounts (both optional). */
export interface QboTracking {
  readonly classId?: string | undefined;
  readonly departmentId?: string | undefined;
}

export interface TrackingChoice {
  readonly id: string;
  /** FullyQualifiedName ("Parent:Child"), what QuickBooks shows in its pickers. */
  readonly name: string;
}

export interface TrackingLists {
  readonly classesOn: boolean;
  readonly departmentsOn: boolean;
  /** What the company calls a Department ("Location" unless renamed: Business, Department, Division, …). */
  readonly departmentLabel: string;
  readonly classes: readonly TrackingChoice[];
  readonly departments: readonly TrackingChoice[];
}

async function accountingPrefs(api: QboApi): Promise<Json> {
  const page = await api.query('SELECT * FROM Preferences');
  return (page.rows[0]?.['AccountingInfoPrefs'] as Json | undefined) ?? {};
}

const choices = (rows: readonly Json[]): TrackingChoice[] =>
  rows.map((r) => ({ id: String(r['Id']), name: String(r['FullyQualifiedName'] ?? r['Name']) })).sort((a, b) => a.name.localeCompare(b.name));

/** Preferences and the active classes and locations, read live (lists only where tracking is on). */
export async function readTrackingLists(api: QboApi): Promise<TrackingLists> {
  const prefs = await accountingPrefs(api);
  const classesOn = prefs['ClassTrackingPerTxn'] === true || prefs['ClassTrackingPerTxnLine'] === true;
  const departmentsOn = prefs['TrackDepartments'] === true;
  const terminology =
    typeof prefs['DepartmentTerminology'] === 'string' && prefs['DepartmentTerminology'] ? String(prefs['DepartmentTerminology']) : 'Location';
  return {
    classesOn,
    departmentsOn,
    departmentLabel: terminology,
    classes: classesOn ? choices(await api.queryAll('Class', 'Active = true')) : [],
    departments: departmentsOn ? choices(await api.queryAll('Department', 'Active = true')) : [],
  };
}

/** `{ClassRef?, DepartmentRef?}` for a line detail that takes both (JournalEntryLineDetail). */
export function journalLineTracking(t: QboTracking | undefined): Json {
  return {
    ...(t?.classId ? { ClassRef: { value: t.classId } } : {}),
    ...(t?.departmentId ? { DepartmentRef: { value: t.departmentId } } : {}),
  };
}

/** `{ClassRef?}` for a DepositLineDetail. */
export function depositLineTracking(t: QboTracking | undefined): Json {
  return t?.classId ? { ClassRef: { value: t.classId } } : {};
}

/** `{DepartmentRef?}` for a transaction's header. */
export function headerTracking(t: QboTracking | undefined): Json {
  return t?.departmentId ? { DepartmentRef: { value: t.departmentId } } : {};
}

async function problemWith(api: QboApi, entity: 'Class' | 'Department', id: string, on: boolean, label: string): Promise<string | null> {
  const where = `choose another ${label.toLowerCase()} or “None” in Settings → Accounts, then retry`;
  if (!on)
    return `${label} tracking is turned off in QuickBooks, but Settings → Accounts maps a ${label.toLowerCase()} (id ${id}): turn it on again, or ${where}`;
  let record: Json;
  try {
    record = await api.read(entity, id);
  } catch (e) {
    if (e instanceof VendorError && (e.kind === 'not_found' || e.kind === 'invalid'))
      return `the ${label.toLowerCase()} mapped in Settings → Accounts (id ${id}) no longer exists in QuickBooks: ${where}`;
    throw e;
  }
  const name = String(record['FullyQualifiedName'] ?? record['Name'] ?? id);
  return record['Active'] === false
    ? `the ${label.toLowerCase()} “${name}” mapped in Settings → Accounts is inactive in QuickBooks: make it active again, or ${where}`
    : null;
}

/**
 * Why a posting that carried the mapping may have been refused: the class or location inactive, deleted, or
 * its tracking turned off. QuickBooks' own answer (610 "Something you're trying to use has been made
 * inactive…") does not say which reference, so after a refusal the mapping is checked. Null: not the cause.
 */
export async function trackingProblem(api: QboApi, t: QboTracking | undefined): Promise<string | null> {
  if (!t?.classId && !t?.departmentId) return null;
  const prefs = await accountingPrefs(api);
  const problems: string[] = [];
  if (t.classId) {
    const p = await problemWith(api, 'Class', t.classId, prefs['ClassTrackingPerTxn'] === true || prefs['ClassTrackingPerTxnLine'] === true, 'Class');
    if (p) problems.push(p);
  }
  if (t.departmentId) {
    const p = await problemWith(api, 'Department', t.departmentId, prefs['TrackDepartments'] === true, 'Location');
    if (p) problems.push(p);
  }
  return problems.length ? problems.join('; ') : null;
}

/** trackingProblem, or null when the check itself failed (QuickBooks' own answer is then all there is). */
export async function trackingProblemIfKnown(api: QboApi, t: QboTracking | undefined): Promise<string | null> {
  try {
    return await trackingProblem(api, t);
  } catch {
    return null;
  }
}

/** A refusal with the mapping's problem in front, in words a person can act on. */
export function withProblem<R extends PostResult>(r: R, problem: string | null): R {
  if (r.ok || !problem) return r;
  return { ...r, error: `${problem[0]!.toUpperCase()}${problem.slice(1)} (QuickBooks: ${r.error})` };
}
