// Each PSA's pay-link target against its simulator over HTTP: the field is read before it is written (a
// repeat writes nothing), a field the MSP has not made is PayLinkFieldMissing with the fix, null clears
// Settle's link, and Autotask keeps the MSP's own Comments around Settle's one line.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startConnectWiseSimulator, type RunningConnectWiseSimulator } from '../../../simulators/connectwise/index.ts';
import { startHaloSimulator, type RunningHaloSimulator } from '../../../simulators/halopsa/index.ts';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../../simulators/autotask/index.ts';
import { defineInvoiceCustomField, customFieldWrites } from '../../../simulators/connectwise/custom-fields.ts';
import { defineInvoiceCustomField as defineHaloField, customFieldsJson } from '../../../simulators/halopsa/custom-fields.ts';
import { createConnectWiseConnector } from './connectwise/connector.ts';
import { createHaloConnector } from './halopsa/connector.ts';
import { createAutotaskConnector } from './autotask/connector.ts';
import { commentsWithLink } from './autotask/pay-link.ts';
import { PayLinkFieldMissing, payLinkTargetOf } from './pay-link.ts';

const A = 'https://settle.example/pay/t.l.aaaa';
const B = 'https://settle.example/pay/t.l.bbbb';

describe('ConnectWise pay-link target', () => {
  let cw: RunningConnectWiseSimulator;
  beforeAll(async () => {
    cw = await startConnectWiseSimulator({ seed: { companies: 1, invoices: 2, seed: 5 } });
  });
  afterAll(() => cw.close());

  it('names the fix while the field is missing, then writes once, finds its own write, and clears', async () => {
    const target = payLinkTargetOf(createConnectWiseConnector({ baseUrl: cw.baseUrl, ...cw.credentials }))!;
    const id = [...cw.state.invoices.all()][0]!.id;
    const missing = await target.write({ invoiceExternalId: String(id), field: 'Pay Link', url: A }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(PayLinkFieldMissing);
    expect((missing as PayLinkFieldMissing).fix).toMatch(/Setup Tables → Custom Fields/);
    await expect(target.check('Pay Link')).rejects.toBeInstanceOf(PayLinkFieldMissing);

    const def = defineInvoiceCustomField(cw.state, 'Pay Link');
    expect(await target.check('pay link')).toContain(`id ${def.id}`);
    expect(await target.write({ invoiceExternalId: String(id), field: 'Pay Link', url: A })).toEqual({ outcome: 'written' });
    expect(await target.write({ invoiceExternalId: String(id), field: String(def.id), url: A })).toEqual({ outcome: 'already' });
    expect(customFieldWrites(cw.state, id)).toBe(1);
    expect(await target.write({ invoiceExternalId: String(id), field: 'Pay Link', url: null })).toEqual({ outcome: 'written' });
    expect((cw.state.invoices.get(id) as unknown as { customFields: { value: string | null }[] }).customFields[0]!.value).toBeNull();
  });
});

describe('HaloPSA pay-link target', () => {
  let halo: RunningHaloSimulator;
  beforeAll(async () => {
    halo = await startHaloSimulator({ seed: { clients: 1, invoices: 2, seed: 5 } });
  });
  afterAll(() => halo.close());

  it('names the fix while the field is missing, then writes once and finds its own write', async () => {
    const target = payLinkTargetOf(createHaloConnector({ baseUrl: halo.baseUrl, ...halo.credentials, api: { sleep: async () => {} } }))!;
    const id = [...halo.sim.state.invoices.keys()][0]!;
    await expect(target.write({ invoiceExternalId: String(id), field: 'CFSettlePayLink', url: A })).rejects.toThrow(/no custom field "CFSettlePayLink"/);
    await expect(target.check('CFSettlePayLink')).rejects.toBeInstanceOf(PayLinkFieldMissing);
    defineHaloField(halo.sim.state, 'CFSettlePayLink', 'Pay now');
    expect(await target.check('CFSettlePayLink')).toContain('is there');
    expect(await target.write({ invoiceExternalId: String(id), field: 'CFSettlePayLink', url: A })).toEqual({ outcome: 'written' });
    expect(await target.write({ invoiceExternalId: String(id), field: 'CFSettlePayLink', url: A })).toEqual({ outcome: 'already' });
    expect(await target.write({ invoiceExternalId: String(id), field: 'CFSettlePayLink', url: B })).toEqual({ outcome: 'written' });
    expect(customFieldsJson(halo.sim.state, halo.sim.state.invoices.get(id)!)[0]).toMatchObject({ name: 'CFSettlePayLink', value: B });
  });
});

describe('Autotask pay-link target', () => {
  let at: RunningAutotaskSimulator;
  beforeAll(async () => {
    at = await startAutotaskSimulator({ seed: { companies: 1, invoices: 1 }, limits: { latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 } });
  });
  afterAll(() => at.close());

  it('keeps the MSP comments, writes one line once, replaces it, and refuses an invoice UDF with the fix', async () => {
    const target = payLinkTargetOf(createAutotaskConnector({ globalUrl: at.baseUrl, ...at.credentials, api: { sleep: async () => {}, timeoutMs: 2_000 } }))!;
    const id = [...at.sim.state.table('Invoices').keys()][0]!;
    at.sim.changeInvoice(id, { comments: 'Thank you for your business.' });
    const patches = () => [...at.sim.calls.counts].filter(([k]) => k.startsWith('PATCH ')).reduce((n, [, v]) => n + v, 0);
    expect(await target.write({ invoiceExternalId: String(id), field: 'Comments', url: A })).toEqual({ outcome: 'written' });
    expect(await target.write({ invoiceExternalId: String(id), field: 'comments', url: A })).toEqual({ outcome: 'already' });
    expect(patches()).toBe(1);
    await target.write({ invoiceExternalId: String(id), field: 'Comments', url: B });
    expect(at.sim.state.table('Invoices').get(id)!.Comments).toBe(`Thank you for your business.\nPay online: ${B}`);
    const udf = await target.write({ invoiceExternalId: String(id), field: 'Pay Link', url: A }).catch((e: unknown) => e);
    expect(udf).toBeInstanceOf(PayLinkFieldMissing);
    expect((udf as PayLinkFieldMissing).fix).toMatch(/Set payLinkField to Comments/);
    expect(await target.check('Comments')).toContain('writable');
  });

  it("writes a back catalogue's link (background) at the budget's lowest priority, a new invoice's at 'link'", async () => {
    const connector = createAutotaskConnector({ globalUrl: at.baseUrl, ...at.credentials, api: { sleep: async () => {}, timeoutMs: 2_000 } });
    const target = payLinkTargetOf(connector)!;
    const [id] = [...at.sim.state.table('Invoices').keys()];
    const update = vi.spyOn(connector.api, 'update');
    const get = vi.spyOn(connector.api, 'get');
    await target.write({ invoiceExternalId: String(id), field: 'Comments', url: 'https://settle.example/pay/t.l.cccc', background: true });
    expect(update.mock.calls.map((c) => c[2])).toEqual(['sweep']);
    expect(get.mock.calls.map((c) => c[2])).toEqual(['sweep']);
    await target.write({ invoiceExternalId: String(id), field: 'Comments', url: 'https://settle.example/pay/t.l.dddd' });
    expect(update.mock.calls.map((c) => c[2])).toEqual(['sweep', 'link']);
  });

  it('recognises only its own line in the comments', () => {
    expect(commentsWithLink(null, A)).toBe(`Pay online: ${A}`);
    expect(commentsWithLink(`Pay online: by cheque\nPay online: ${A}\n`, B)).toBe(`Pay online: by cheque\nPay online: ${B}`);
    expect(commentsWithLink(`Note\nPay online: ${A}`, null)).toBe('Note');
  });
});
