// Invoice custom fields, as an MSP defines them in Configuration → Custom Objects → Custom Fields (table
// Invoices). `GET /Invoice/{id}` carries the defined fields in `customfields` ([{id, name, label, type, value}]);
// none exist until a test or the demo defines one (`/_sim/invoice-custom-fields`). `POST /Invoice` with an
// array of `{id, customfields:[{id|name, value}]}` updates an existing invoice (Halo's convention: an item with
// an existing id is an update); only `id` and `customfields` are modelled, and a custom field the MSP has not
// defined is refused with 400 (assumption, README), not silently dropped.
import type { FastifyInstance } from 'fastify';
import { BadRequest } from './query.ts';
import type { HaloState, Invoice } from './store.ts';

export interface HaloCustomFieldDef {
  readonly id: number;
  readonly name: string;
  readonly label: string;
}

interface Fields {
  readonly defs: HaloCustomFieldDef[];
  readonly values: Map<number, Map<number, string>>; // invoice id → field id → value
  readonly writes: Map<number, number>; // invoice id → successful updates (tests: "written once")
}
const fieldsOf = new WeakMap<HaloState, Fields>();
const of = (state: HaloState): Fields => {
  let f = fieldsOf.get(state);
  if (!f) fieldsOf.set(state, (f = { defs: [], values: new Map(), writes: new Map() }));
  return f;
};

export function defineInvoiceCustomField(state: HaloState, name: string, label = name): HaloCustomFieldDef {
  const f = of(state);
  const known = f.defs.find((d) => d.name === name);
  if (known) return known;
  const def = { id: 200 + f.defs.length + 1, name, label };
  f.defs.push(def);
  return def;
}

/** The invoice's `customfields` as `GET /Invoice/{id}` shows them (type 0: text). */
export function customFieldsJson(state: HaloState, inv: Invoice): Record<string, unknown>[] {
  const f = of(state);
  return f.defs.map((d) => ({ id: d.id, name: d.name, label: d.label, type: 0, value: f.values.get(inv.id)?.get(d.id) ?? null }));
}

export function registerInvoiceUpdates(api: FastifyInstance, state: HaloState): void {
  api.post('/Invoice', async (req) => {
    const body = req.body;
    if (!Array.isArray(body) || body.length === 0)
      throw new BadRequest('The JSON value could not be converted to List<InvoiceHeader>. Send an array of objects.', '$');
    const f = of(state);
    const planned: { inv: Invoice; values: Map<number, string> }[] = [];
    body.forEach((item: Record<string, unknown>, i) => {
      const at = `$[${i}]`;
      if (!item || typeof item !== 'object') throw new BadRequest(`Item ${i} is not an object.`, at);
      for (const k of Object.keys(item)) {
        if (k !== 'id' && k !== 'customfields')
          throw new BadRequest(`'${k}' cannot be changed through this simulator (only customfields are modelled).`, `${at}.${k}`);
      }
      const inv = typeof item.id === 'number' ? state.invoices.get(item.id) : undefined;
      if (!inv) throw new BadRequest(`Invoice ${String(item.id)} does not exist.`, `${at}.id`);
      if (!Array.isArray(item.customfields)) throw new BadRequest('customfields must be an array.', `${at}.customfields`);
      const values = new Map<number, string>();
      (item.customfields as Record<string, unknown>[]).forEach((c, j) => {
        const def = f.defs.find((d) =>
          typeof c?.id === 'number' ? d.id === c.id : typeof c?.name === 'string' && d.name.toLowerCase() === c.name.toLowerCase(),
        );
        if (!def) throw new BadRequest(`Custom field ${JSON.stringify(c?.id ?? c?.name ?? null)} does not exist for Invoices.`, `${at}.customfields[${j}]`);
        if (typeof c.value !== 'string' && c.value !== null) throw new BadRequest(`The value of ${def.name} must be text.`, `${at}.customfields[${j}].value`);
        values.set(def.id, typeof c.value === 'string' ? c.value : '');
      });
      planned.push({ inv, values });
    });
    // All items are checked before any is applied: a refused array changes nothing.
    for (const { inv, values } of planned) {
      const now = f.values.get(inv.id) ?? new Map<number, string>();
      for (const [k, v] of values) now.set(k, v);
      f.values.set(inv.id, now);
      f.writes.set(inv.id, (f.writes.get(inv.id) ?? 0) + 1);
      inv.updatedMs = state.nowMs();
    }
    const out = planned.map((p) => ({ id: p.inv.id, customfields: customFieldsJson(state, p.inv) }));
    return out.length === 1 ? out[0] : out;
  });
}

export function registerCustomFieldControl(app: FastifyInstance, state: HaloState): void {
  app.post('/_sim/invoice-custom-fields', async (req) => {
    const b = (req.body ?? {}) as { name?: unknown; label?: unknown };
    return defineInvoiceCustomField(state, String(b.name ?? 'CFSettlePayLink'), typeof b.label === 'string' ? b.label : undefined);
  });
  app.get('/_sim/invoices/:id/custom-field-writes', async (req) => ({ writes: of(state).writes.get(Number((req.params as { id: string }).id)) ?? 0 }));
}
