// Invoice custom fields, as an MSP defines them in System → Setup Tables → Custom Fields (screen Invoice).
// Every invoice carries the defined fields in `customFields` ([{id, caption, type, entryMethod,
// numberOfDecimals, value}]); none are defined until a test or the demo defines one (`/_sim/invoice-custom-fields`),
// so a client writing to a field the MSP has not made gets the vendor's refusal. `PATCH /finance/invoices/{id}`
// takes ConnectWise's JSON Patch list and, like the rest of this simulator, only what Settle uses: "replace"
// of `customFields`. A custom field id that is not defined for the Invoice screen answers 400 InvalidObject
// (assumption, README): ConnectWise does not silently drop it.
import type { FastifyInstance } from 'fastify';
import type { CwError, CwInvoice } from './model.ts';
import type { ConnectWiseState } from './store.ts';

export interface CwCustomFieldDef {
  readonly id: number;
  readonly caption: string;
  readonly type: 'Text';
  readonly entryMethod: 'EntryField';
  readonly numberOfDecimals: 0;
}
type Valued = CwCustomFieldDef & { value: string | null };
type WithFields = CwInvoice & { customFields?: Valued[] };

const defsOf = new WeakMap<ConnectWiseState, CwCustomFieldDef[]>();
/** Successful PATCHes of an invoice's custom fields, per invoice id (tests: "written once"). */
const writesOf = new WeakMap<ConnectWiseState, Map<number, number>>();

const err = (message: string, field: string): CwError => ({
  code: 'InvalidObject',
  message: 'invoice object is invalid',
  errors: [{ code: 'InvalidField', message, resource: 'invoice', field }],
});

function attach(defs: readonly CwCustomFieldDef[], inv: WithFields): void {
  const before = new Map((inv.customFields ?? []).map((c) => [c.id, c.value]));
  inv.customFields = defs.map((d) => ({ ...d, value: before.get(d.id) ?? null }));
}

/** Define a Text custom field on the Invoice screen (once per caption); every invoice, now and later, carries it. */
export function defineInvoiceCustomField(state: ConnectWiseState, caption: string): CwCustomFieldDef {
  let defs = defsOf.get(state);
  if (!defs) {
    defs = [];
    defsOf.set(state, defs);
    const list = defs;
    const insert = state.invoices.insert.bind(state.invoices);
    state.invoices.insert = (row: CwInvoice): CwInvoice => {
      attach(list, row as WithFields);
      return insert(row);
    };
  }
  const known = defs.find((d) => d.caption === caption);
  if (known) return known;
  const def: CwCustomFieldDef = { id: 100 + defs.length + 1, caption, type: 'Text', entryMethod: 'EntryField', numberOfDecimals: 0 };
  defs.push(def);
  for (const inv of state.invoices.all()) attach(defs, inv as WithFields);
  return def;
}

export const customFieldWrites = (state: ConnectWiseState, invoiceId: number): number => writesOf.get(state)?.get(invoiceId) ?? 0;

export function registerInvoiceCustomFields(api: FastifyInstance, state: ConnectWiseState): void {
  api.patch('/finance/invoices/:id', async (req, reply) => {
    const raw = (req.params as { id?: string }).id ?? '';
    const inv = /^\d+$/.test(raw) ? (state.invoices.get(Number(raw)) as WithFields | undefined) : undefined;
    if (!inv) return reply.code(404).send({ code: 'NotFound', message: `Invoice with id ${raw} not found` } satisfies CwError);
    const ops = req.body;
    if (!Array.isArray(ops) || ops.length === 0)
      return reply.code(400).send(err('A PATCH body is a list of operations, e.g. [{"op":"replace","path":"customFields","value":[…]}].', 'body'));
    const defs = defsOf.get(state) ?? [];
    const values = new Map<number, string | null>();
    for (const op of ops as Record<string, unknown>[]) {
      const path = String(op?.path ?? '').replace(/^\//, '');
      if (op?.op !== 'replace' || path !== 'customFields')
        return reply.code(400).send(err(`Only "replace" of "customFields" is supported here, not ${String(op?.op)} of "${path}".`, path || 'path'));
      if (!Array.isArray(op.value)) return reply.code(400).send(err('customFields must be a list.', 'customFields'));
      for (const c of op.value as Record<string, unknown>[]) {
        const def = defs.find((d) => d.id === c?.id);
        if (!def) return reply.code(400).send(err(`Custom field id ${String(c?.id)} is not defined for the Invoice screen.`, 'customFields'));
        if (c.value !== null && c.value !== undefined && typeof c.value !== 'string')
          return reply.code(400).send(err(`Custom field ${def.caption} takes text.`, 'customFields'));
        if (typeof c.value === 'string' && c.value.length > 1000)
          return reply.code(400).send(err(`Custom field ${def.caption} is longer than 1000 characters.`, 'customFields'));
        values.set(def.id, typeof c.value === 'string' && c.value !== '' ? c.value : null);
      }
    }
    attach(defs, inv);
    for (const c of inv.customFields ?? []) if (values.has(c.id)) c.value = values.get(c.id)!;
    inv._info = { ...inv._info, lastUpdated: state.now() };
    const writes = writesOf.get(state) ?? new Map<number, number>();
    writesOf.set(state, writes);
    writes.set(inv.id, (writes.get(inv.id) ?? 0) + 1);
    return inv;
  });
}

/** `/_sim` control: define a field (as the MSP would in Setup Tables) and read how often an invoice's were written. */
export function registerCustomFieldControl(app: FastifyInstance, state: ConnectWiseState): void {
  app.post('/_sim/invoice-custom-fields', async (req) =>
    defineInvoiceCustomField(state, String((req.body as { caption?: unknown } | null)?.caption ?? 'Pay Link')),
  );
  app.get('/_sim/invoices/:id/custom-field-writes', async (req) => ({ writes: customFieldWrites(state, Number((req.params as { id: string }).id)) }));
}
