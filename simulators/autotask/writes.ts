// Create (POST /V1.0/{Entity}) and update (PATCH /V1.0/{Entity}, the id in the body) as strict as the vendor:
// the entity must allow it (entityInformation canCreate/canUpdate), every field must exist, read-only fields
// cannot be set, required fields must be present on create, references must exist and picklist values must
// be active. The answer is OperationResultModel `{itemId}`.
import { fieldNamed, singular, type EntityDef, type FieldDef } from './fields.ts';
import { QueryError } from './filter.ts';
import type { AutotaskState, Row } from './store.ts';

const REFERENCES: Readonly<Record<string, string>> = { Company: 'Companies', Invoice: 'Invoices' };

function value(entity: EntityDef, f: FieldDef, raw: unknown, state: AutotaskState): unknown {
  if (raw === null) {
    if (f.isRequired) throw new QueryError(`Field ${f.name} of the ${singular(entity)} entity is required.`);
    return null;
  }
  const bad = (): never => {
    throw new QueryError(`Value ${JSON.stringify(raw)} is not valid for field ${f.name} of type ${f.dataType}.`);
  };
  let v: unknown = raw;
  switch (f.dataType) {
    case 'integer':
    case 'long':
      if (typeof raw !== 'number' || !Number.isInteger(raw)) bad();
      break;
    case 'double':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) bad();
      break;
    case 'boolean':
      if (typeof raw !== 'boolean') bad();
      break;
    case 'datetime':
      if (typeof raw !== 'string' || Number.isNaN(Date.parse(raw))) bad();
      v = new Date(raw as string).toISOString();
      break;
    case 'string':
      if (typeof raw !== 'string') bad();
      if (f.name === 'Name' && (raw as string).length > 250) throw new QueryError(`Field Name exceeds its maximum length of 250.`);
      break;
  }
  if (f.picklist && !f.picklist.some((p) => p.isActive && p.value === String(v))) {
    throw new QueryError(`Value ${JSON.stringify(raw)} is not an active picklist value of field ${f.name}.`);
  }
  const refTable = f.referenceEntityType ? REFERENCES[f.referenceEntityType] : undefined;
  if (refTable && !state.table(refTable).has(v as number)) {
    throw new QueryError(`Reference value ${String(v)} of field ${f.name} does not exist in the ${f.referenceEntityType} entity.`);
  }
  return v;
}

function fieldsOf(entity: EntityDef, body: unknown): [FieldDef, unknown][] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new QueryError(`The request body must be a ${singular(entity)} object.`);
  const out: [FieldDef, unknown][] = [];
  for (const [k, v] of Object.entries(body)) {
    if (k.toLowerCase() === 'userdefinedfields') {
      if (Array.isArray(v) && v.length > 0) throw new QueryError(`The ${singular(entity)} entity has no user-defined fields.`);
      continue;
    }
    const f = fieldNamed(entity, k);
    if (!f) throw new QueryError(`Unable to find ${k} in the ${singular(entity)} entity.`);
    out.push([f, v]);
  }
  return out;
}

export function createRecord(state: AutotaskState, entity: EntityDef, body: unknown, extra: Record<string, unknown> = {}): Row {
  if (!entity.canCreate) throw new QueryError(`The ${singular(entity)} entity does not support create.`);
  const values: Record<string, unknown> = { ...extra };
  for (const [f, raw] of fieldsOf(entity, body)) {
    if (f.name === 'Id') {
      if (raw !== 0 && raw !== null) throw new QueryError('Id must be 0 or absent on create.');
      continue;
    }
    if (f.isReadOnly) throw new QueryError(`Field ${f.name} of the ${singular(entity)} entity is read only.`);
    values[f.name] = value(entity, f, raw, state);
  }
  for (const f of entity.fields) {
    if (f.isRequired && (values[f.name] === undefined || values[f.name] === null || values[f.name] === '')) {
      throw new QueryError(`Field ${f.name} of the ${singular(entity)} entity is required.`);
    }
  }
  return state.insert(entity.name, values);
}

export function updateRecord(state: AutotaskState, entity: EntityDef, body: unknown, parentCheck?: (row: Row) => boolean): { row: Row; changed: string[] } {
  if (!entity.canUpdate) throw new QueryError(`The ${singular(entity)} entity does not support update.`);
  const pairs = fieldsOf(entity, body);
  const idPair = pairs.find(([f]) => f.name === 'Id');
  if (!idPair || typeof idPair[1] !== 'number') throw new QueryError(`An update of the ${singular(entity)} entity requires its id.`);
  const row = state.table(entity.name).get(idPair[1]);
  if (!row || (parentCheck && !parentCheck(row))) throw new QueryError(`${singular(entity)} with id ${String(idPair[1])} does not exist.`);
  const next: Record<string, unknown> = {};
  for (const [f, raw] of pairs) {
    if (f.name === 'Id') continue;
    if (f.isReadOnly) throw new QueryError(`Field ${f.name} of the ${singular(entity)} entity is read only.`);
    next[f.name] = value(entity, f, raw, state);
  }
  Object.assign(row, next);
  return { row, changed: Object.keys(next) };
}
