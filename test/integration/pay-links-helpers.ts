// What the pay-link tests need to reach into each PSA simulator: make an invoice, define the field the MSP
// would define, read the field's value and how often it was written — per vendor, through the simulator's
// own state or `/_sim` control routes (never through Settle).
import type { DemoPsa } from '../../src/cli/demo/psa-simulators.ts';
import type { Stack } from '../helpers/stack.ts';
import { customFieldWrites } from '../../simulators/connectwise/custom-fields.ts';
import { customFieldsJson } from '../../simulators/halopsa/custom-fields.ts';

type AnyStack = Stack<DemoPsa>;
const sims = (s: AnyStack) => s.sims as unknown as Record<DemoPsa, { origin?: string; baseUrl: string; sim: any }>;
/** Where a simulator's `/_sim` control routes are (HaloPSA serves them on its base address). */
const control = (s: AnyStack): string => sims(s)[s.psa].origin ?? sims(s)[s.psa].baseUrl;

/** The field the test stack's simulated MSP made (cli/demo/pay-link-field.ts). */
export const defaultField = (s: AnyStack): string => (s.psa === 'connectwise' ? 'Pay Link' : s.psa === 'halopsa' ? 'CFSettlePayLink' : 'Comments');

/** A new invoice in the PSA, now; its id there. */
export function newPsaInvoice(s: AnyStack): string {
  const sim = sims(s)[s.psa].sim;
  if (s.psa === 'autotask') {
    const company = [...sim.state.table('Companies').keys()][0] as number;
    return String(sim.createInvoice({ companyId: company, lines: [{ description: 'Managed services', quantity: 1, rate: 250 }] }).invoice.Id);
  }
  return String(sim.createInvoice().id);
}

/** Define the field pay links go into, as the MSP would in the PSA's set-up screens (Autotask: nothing to do). */
export async function definePayLinkField(s: AnyStack, field = defaultField(s)): Promise<void> {
  if (s.psa === 'autotask') return;
  const body = s.psa === 'connectwise' ? { caption: field } : { name: field, label: 'Pay now' };
  const res = await fetch(`${control(s)}/_sim/invoice-custom-fields`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`defining the field: ${res.status}`);
}

/** What the invoice shows in the PSA: the custom field's value, or the Autotask Comments. */
export function psaPayLinkText(s: AnyStack, externalId: string, field = defaultField(s)): string | null {
  const sim = sims(s)[s.psa].sim;
  const id = Number(externalId);
  if (s.psa === 'autotask') return (sim.state.table('Invoices').get(id)?.Comments as string | undefined) ?? null;
  if (s.psa === 'connectwise') {
    const f = (sim.state.invoices.get(id)?.customFields ?? []) as { caption: string; value: string | null }[];
    return f.find((c) => c.caption === field)?.value ?? null;
  }
  const f = customFieldsJson(sim.state, sim.state.invoices.get(id)) as { name: string; value: string | null }[];
  return f.find((c) => c.name === field)?.value ?? null;
}

/** How many writes of the field the PSA took for this invoice (Autotask: invoice PATCHes, all invoices). */
export async function psaPayLinkWrites(s: AnyStack, externalId: string): Promise<number> {
  const running = sims(s)[s.psa];
  if (s.psa === 'connectwise') return customFieldWrites(running.sim.state, Number(externalId));
  if (s.psa === 'autotask')
    return [...(running.sim.calls.counts as Map<string, number>)].filter(([k]) => k.startsWith('PATCH ')).reduce((n, [, v]) => n + v, 0);
  const res = await fetch(`${control(s)}/_sim/invoices/${externalId}/custom-field-writes`);
  return ((await res.json()) as { writes: number }).writes;
}
