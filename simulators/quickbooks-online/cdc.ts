// Change Data Capture: `GET /cdc?entities=Invoice,Payment&changedSince=<dateTime>` (docs: developer.intuit.com
// … /explore-the-quickbooks-online-api/change-data-capture; IntuitRestServiceDef.xsd › CDCResponse). Answers
// every record of the named entities changed at or after changedSince — created, updated, voided (a voided
// record is an ordinary update: amounts zero) and deleted (only `{"domain","status":"Deleted","Id","MetaData"}`
// is left of those) — as `{"CDCResponse":[{"QueryResponse":[{"<Entity>":[…],"startPosition","maxResults",
// "totalCount"}, …]}],"time"}`, one QueryResponse per entity asked for, in the order asked.
// Limits as documented: changedSince at most 30 days back; at most 1,000 records in one response (the
// rest is not sent — a client must ask again from a later changedSince). An entity QuickBooks' CDC supports
// but the simulator does not model, or a name that is no entity, is refused (4001).
import { faults, qboDateTime } from './faults.ts';
import { ENTITY_NAMES, QboStore, type Entity, type EntityName } from './store.ts';

export const CDC_LOOKBACK_MS = 30 * 24 * 3600 * 1000;
export const CDC_MAX_OBJECTS = 1000;
// Every entity the simulator keeps, but the company's own settings records (CompanyInfo, Preferences).
const CDC_ENTITIES: readonly EntityName[] = ENTITY_NAMES.filter((n) => n !== 'CompanyInfo' && n !== 'Preferences');

type Body = Record<string, unknown>;

export function changeDataCapture(store: QboStore, entitiesParam: string | undefined, changedSinceParam: string | undefined): Body {
  if (!entitiesParam) throw faults.requiredParam('entities');
  if (!changedSinceParam) throw faults.requiredParam('changedSince');
  const names = entitiesParam.split(',').map((n) => n.trim());
  const entities = names.map((n) => {
    const e = CDC_ENTITIES.find((x) => x.toLowerCase() === n.toLowerCase());
    if (!e) throw faults.queryValidation(`entity ${JSON.stringify(n)} is not supported by Change Data Capture in this simulator`);
    return e;
  });
  const since = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(changedSinceParam) ? Date.parse(changedSinceParam) : NaN;
  if (Number.isNaN(since)) {
    throw faults.invalidValue('changedSince', `changedSince must be a date-time such as 2026-01-31T09:00:00-08:00, got ${JSON.stringify(changedSinceParam)}`);
  }
  if (since < store.now() - CDC_LOOKBACK_MS)
    throw faults.invalidValue('changedSince', 'changedSince can be at most 30 days ago; use a query for older changes');
  // QBO's times have whole seconds: a change in the same second as changedSince counts as changed.
  const from = Math.floor(since / 1000) * 1000;
  let budget = CDC_MAX_OBJECTS;
  const responses = entities.map((entity) => {
    const live: Body[] = store.list(entity).filter((e) => QboStore.updatedAt(e) >= from);
    const gone: Body[] = store.tombstones
      .filter((t) => t.entity === entity && t.at >= from)
      .map((t) => ({ domain: 'QBO', status: 'Deleted', Id: t.id, MetaData: { LastUpdatedTime: qboDateTime(t.at) } }));
    const rows = [...live, ...gone].sort((a, b) => updated(a) - updated(b)).slice(0, Math.max(0, budget));
    budget -= rows.length;
    return rows.length === 0 ? {} : { [entity]: rows, startPosition: 1, maxResults: rows.length, totalCount: rows.length };
  });
  return { CDCResponse: [{ QueryResponse: responses }] };
}

const updated = (r: Body): number => QboStore.updatedAt(r as Entity);
