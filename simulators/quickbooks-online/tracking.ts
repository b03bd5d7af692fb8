// Classes and locations: Class and Department (Finance.xsd › Class: Name, SubClass, ParentRef,
// FullyQualifiedName, Active; › Department: the same with SubDepartment, plus Address — QuickBooks' screens
// call a Department a "Location"), and the references to them on the transactions the simulator models.
//
// Sourced (Finance.xsd, Intuit's "Categorize income and expenses" and "Manage business units" pages):
//   - where the references go: DepartmentRef on every transaction's header (Transaction base: Invoice,
//     Payment, Deposit, JournalEntry, Purchase); ClassRef on Invoice's header and on the line details
//     DepositLineDetail, JournalEntryLineDetail, AccountBasedExpenseLineDetail, SalesItemLineDetail;
//     DepartmentRef also on JournalEntryLineDetail. Payment has no ClassRef at all (checkFields refuses it);
//   - a company turns them on in Preferences.AccountingInfoPrefs: ClassTrackingPerTxn or
//     ClassTrackingPerTxnLine for classes, TrackDepartments for locations (QBO Plus and Advanced);
//   - Class and Department are created with a Name (≤ 100 characters), optionally a ParentRef (SubClass /
//     SubDepartment true, FullyQualifiedName "Parent:Child"), read, queried and updated; never deleted —
//     QuickBooks makes them inactive (Active: false), and an inactive one "may not be used on financial
//     transactions" (the XSD's words) — refused here with 610 like an inactive account.
// Assumed (Intuit does not document it; the strictest plausible behaviour, as the README says):
//   - a ClassRef while class tracking is off, or a DepartmentRef while location tracking is off, is refused
//     (6000) rather than ignored; per-transaction vs per-line class tracking is not told apart (QuickBooks is
//     reported to ignore a reference at the level the setting does not use; a refusal would be stricter
//     still, but Deposit and JournalEntry only have line-level ClassRef anyway);
//   - a Name is unique among the company's classes (resp. departments), case-insensitively (6240).
import { checkFields, faults } from './faults.ts';
import { refTo, type Entity, type QboStore } from './store.ts';
import { PREFERENCES_ID } from './company.ts';

type Body = Record<string, unknown>;
export type TrackingEntity = 'Class' | 'Department';

const NAME_MAX = 100;

function accountingPrefs(store: QboStore): Body {
  return (store.get('Preferences', PREFERENCES_ID)['AccountingInfoPrefs'] as Body | undefined) ?? {};
}

export function classTrackingOn(store: QboStore): boolean {
  const p = accountingPrefs(store);
  return p['ClassTrackingPerTxn'] === true || p['ClassTrackingPerTxnLine'] === true;
}

export function departmentTrackingOn(store: QboStore): boolean {
  return accountingPrefs(store)['TrackDepartments'] === true;
}

/**
 * What a company's owner does under Account and settings → Advanced → Categories (the simulator's control
 * routes; the API's Preferences update is not modelled). `classes`: 'line' one class per row, 'transaction'
 * one per transaction, false off.
 */
export function setTracking(store: QboStore, opts: { classes?: 'line' | 'transaction' | false; departments?: boolean }): Body {
  const prefs = store.get('Preferences', PREFERENCES_ID);
  const p = { ...accountingPrefs(store) };
  if (opts.classes !== undefined) {
    p['ClassTrackingPerTxn'] = opts.classes === 'transaction';
    p['ClassTrackingPerTxnLine'] = opts.classes === 'line';
  }
  if (opts.departments !== undefined) {
    p['TrackDepartments'] = opts.departments;
    p['DepartmentTerminology'] = 'Location';
  }
  prefs['AccountingInfoPrefs'] = p;
  store.touch(prefs);
  return p;
}

function checkName(store: QboStore, entity: TrackingEntity, name: unknown, exceptId?: string): string {
  if (typeof name !== 'string' || name.trim() === '') throw faults.requiredParam('Name');
  if (name.length > NAME_MAX) throw faults.stringLength('Name', NAME_MAX, name.length);
  const lower = name.toLowerCase();
  const dup = store.list(entity).find((e) => e.Id !== exceptId && String(e['Name']).toLowerCase() === lower);
  if (dup) throw faults.duplicateName(name, dup.Id);
  return name;
}

/** `POST /class` or `POST /department`. */
export function createTrackingEntity(store: QboStore, entity: TrackingEntity, body: Body): Entity {
  checkFields(entity, body);
  const name = checkName(store, entity, body['Name']);
  const parent = store.ref(entity, 'ParentRef', body['ParentRef'], false);
  const sub = entity === 'Class' ? 'SubClass' : 'SubDepartment';
  return store.insert(entity, {
    ...body,
    Name: name,
    [sub]: Boolean(parent),
    ...(parent ? { ParentRef: refTo(parent) } : {}),
    FullyQualifiedName: parent ? `${String(parent['FullyQualifiedName'])}:${name}` : name,
    Active: body['Active'] ?? true,
  });
}

/** Update with Id + SyncToken (sparse or full): Name and Active are what a person changes. */
export function updateTrackingEntity(store: QboStore, entity: TrackingEntity, body: Body): Entity {
  checkFields(entity, body);
  if (body['Id'] === undefined) throw faults.requiredParam('Id');
  const e = store.get(entity, String(body['Id']));
  if (body['SyncToken'] === undefined) throw faults.requiredParam('SyncToken');
  if (String(body['SyncToken']) !== e.SyncToken) throw faults.staleObject(entity, e.Id, String(body['SyncToken']));
  const sparse = body['sparse'] === true || body['sparse'] === 'true';
  if (body['Name'] !== undefined || !sparse) e['Name'] = checkName(store, entity, body['Name'], e.Id);
  if (body['Active'] !== undefined) {
    if (typeof body['Active'] !== 'boolean') throw faults.invalidValue('Active', 'Active is true or false');
    e['Active'] = body['Active'];
  } else if (!sparse) e['Active'] = true;
  const parent = e['ParentRef'] ? store.find(entity, String((e['ParentRef'] as Body)['value'])) : undefined;
  e['FullyQualifiedName'] = parent ? `${String(parent['FullyQualifiedName'])}:${String(e['Name'])}` : e['Name'];
  store.touch(e);
  return e;
}

/** One reference checked: tracking on, record exists (2500) and is active (610). Answered with its name. */
function checkedRef(store: QboStore, entity: TrackingEntity, field: string, ref: unknown): Body {
  const on = entity === 'Class' ? classTrackingOn(store) : departmentTrackingOn(store);
  if (!on) {
    throw faults.business(
      entity === 'Class'
        ? 'Class tracking is turned off for this company (Account and settings → Advanced → Categories → Track classes); send no ClassRef'
        : 'Location tracking is turned off for this company (Account and settings → Advanced → Categories → Track locations); send no DepartmentRef',
      field,
    );
  }
  return { ...refTo(store.ref(entity, field, ref)!, 'FullyQualifiedName') };
}

const LINE_DETAILS = ['DepositLineDetail', 'JournalEntryLineDetail', 'AccountBasedExpenseLineDetail', 'SalesItemLineDetail'] as const;

/**
 * Check every ClassRef / DepartmentRef a transaction body carries, on the header and on its lines, and
 * replace each with `{value, name}` as QuickBooks answers it. Call before anything is changed (requests are
 * atomic); entity-specific code copies line details from the body, so the replaced refs are what is stored.
 */
export function checkTrackingRefs(store: QboStore, body: Body): void {
  if (body['DepartmentRef'] !== undefined) body['DepartmentRef'] = checkedRef(store, 'Department', 'DepartmentRef', body['DepartmentRef']);
  if (body['ClassRef'] !== undefined) body['ClassRef'] = checkedRef(store, 'Class', 'ClassRef', body['ClassRef']);
  const lines = Array.isArray(body['Line']) ? (body['Line'] as Body[]) : [];
  for (const line of lines) {
    for (const d of LINE_DETAILS) {
      const detail = line?.[d] as Body | undefined;
      if (!detail || typeof detail !== 'object') continue;
      if (detail['ClassRef'] !== undefined) detail['ClassRef'] = checkedRef(store, 'Class', `Line.${d}.ClassRef`, detail['ClassRef']);
      if (detail['DepartmentRef'] !== undefined) detail['DepartmentRef'] = checkedRef(store, 'Department', `Line.${d}.DepartmentRef`, detail['DepartmentRef']);
    }
  }
}
