// The invoice fields pay links go into, at each simulated PSA over raw HTTP, refused as the vendor would:
// ConnectWise and HaloPSA refuse a custom field the MSP has not defined (their error shapes), Autotask lists
// no invoice user-defined fields, refuses a write naming one, and takes the invoice's Comments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectWiseSimulator, type RunningConnectWiseSimulator } from './connectwise/index.ts';
import { startHaloSimulator, type RunningHaloSimulator } from './halopsa/index.ts';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from './autotask/index.ts';

const json = { 'content-type': 'application/json' };

describe('ConnectWise simulator: invoice custom fields', () => {
  let cw: RunningConnectWiseSimulator;
  let auth: Record<string, string>;
  beforeAll(async () => {
    cw = await startConnectWiseSimulator({ seed: { companies: 1, invoices: 2, seed: 3 } });
    const c = cw.credentials;
    auth = { authorization: `Basic ${Buffer.from(`${c.companyId}+${c.publicKey}:${c.privateKey}`).toString('base64')}`, clientId: c.clientId };
  });
  afterAll(() => cw.close());
  const patch = (id: number, body: unknown) =>
    fetch(`${cw.baseUrl}/finance/invoices/${id}`, { method: 'PATCH', headers: { ...auth, ...json }, body: JSON.stringify(body) });

  it('refuses a custom field id the MSP has not defined, then takes a defined one and shows it on the invoice', async () => {
    const id = [...cw.state.invoices.all()][0]!.id;
    const bad = await patch(id, [{ op: 'replace', path: 'customFields', value: [{ id: 101, value: 'https://x/pay/1' }] }]);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'InvalidObject', errors: [{ code: 'InvalidField', field: 'customFields', resource: 'invoice' }] });
    const other = await patch(id, [{ op: 'replace', path: 'status', value: 'Paid' }]);
    expect(other.status).toBe(400);

    const def = (await (
      await fetch(`${cw.origin}/_sim/invoice-custom-fields`, { method: 'POST', headers: json, body: JSON.stringify({ caption: 'Pay Link' }) })
    ).json()) as { id: number };
    const before = (await (await fetch(`${cw.baseUrl}/finance/invoices/${id}`, { headers: auth })).json()) as {
      customFields: { id: number; caption: string; value?: string }[];
    };
    expect(before.customFields).toEqual([{ id: def.id, caption: 'Pay Link', type: 'Text', entryMethod: 'EntryField', numberOfDecimals: 0 }]);
    const ok = await patch(id, [{ op: 'replace', path: 'customFields', value: [{ id: def.id, value: 'https://x/pay/1' }] }]);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as typeof before).customFields[0]!.value).toBe('https://x/pay/1');
    expect(await (await fetch(`${cw.origin}/_sim/invoices/${id}/custom-field-writes`)).json()).toEqual({ writes: 1 });
  });
});

describe('HaloPSA simulator: invoice custom fields', () => {
  let halo: RunningHaloSimulator;
  let bearer: Record<string, string>;
  beforeAll(async () => {
    halo = await startHaloSimulator({ seed: { clients: 1, invoices: 2, seed: 3 } });
    const c = halo.credentials;
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, scope: 'all' });
    const tok = await fetch(`${halo.baseUrl}/auth/token?tenant=${c.tenant}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    bearer = { authorization: `Bearer ${((await tok.json()) as { access_token: string }).access_token}` };
  });
  afterAll(() => halo.close());
  const post = (body: unknown) => fetch(`${halo.baseUrl}/api/Invoice`, { method: 'POST', headers: { ...bearer, ...json }, body: JSON.stringify(body) });

  it('refuses an undefined custom field as a validation problem, and changes nothing of a refused array', async () => {
    const id = [...halo.sim.state.invoices.keys()][0]!;
    const bad = await post([{ id, customfields: [{ name: 'CFSettlePayLink', value: 'https://x/pay/1' }] }]);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 400, errors: { '$[0].customfields[0]': [expect.stringContaining('does not exist')] } });
    expect((await post([{ id, total: 1 }])).status).toBe(400);

    await fetch(`${halo.baseUrl}/_sim/invoice-custom-fields`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'CFSettlePayLink' }) });
    const mixed = await post([
      { id, customfields: [{ name: 'CFSettlePayLink', value: 'https://x/pay/1' }] },
      { id: 999999, customfields: [] },
    ]);
    expect(mixed.status).toBe(400);
    const ok = await post([{ id, customfields: [{ name: 'cfsettlepaylink', value: 'https://x/pay/2' }] }]);
    expect(ok.status).toBe(200);
    const inv = (await (await fetch(`${halo.baseUrl}/api/Invoice/${id}`, { headers: bearer })).json()) as { customfields: { name: string; value: string }[] };
    expect(inv.customfields).toMatchObject([{ name: 'CFSettlePayLink', value: 'https://x/pay/2' }]);
    expect(await (await fetch(`${halo.baseUrl}/_sim/invoices/${id}/custom-field-writes`)).json()).toEqual({ writes: 1 });
  });
});

describe('Autotask simulator: where an invoice can carry a link', () => {
  let at: RunningAutotaskSimulator;
  const headers = () => ({ ApiIntegrationCode: at.credentials.integrationCode, UserName: at.credentials.username, Secret: at.credentials.secret, ...json });
  beforeAll(async () => {
    at = await startAutotaskSimulator({ seed: { companies: 1, invoices: 1 }, limits: { latencyAtHalfMs: 0, latencyAtThreeQuartersMs: 0 } });
  });
  afterAll(() => at.close());

  it('lists no invoice UDFs, refuses one with the errors body, and takes Comments', async () => {
    const udfs = await fetch(`${at.zoneUrl}V1.0/Invoices/entityInformation/userDefinedFields`, { headers: headers() });
    expect(await udfs.json()).toEqual({ fields: [] });
    const id = [...at.sim.state.table('Invoices').keys()][0]!;
    const patch = (body: unknown) => fetch(`${at.zoneUrl}V1.0/Invoices`, { method: 'PATCH', headers: headers(), body: JSON.stringify(body) });
    const bad = await patch({ id, UserDefinedFields: [{ Name: 'Pay Link', Value: 'https://x/pay/1' }] });
    expect(bad.status).toBe(500);
    expect(await bad.json()).toEqual({ errors: ['The Invoice entity has no user-defined fields.'] });
    const ok = await patch({ id, Comments: 'Thanks!\nPay online: https://x/pay/1' });
    expect(await ok.json()).toEqual({ itemId: id });
    expect(at.sim.state.table('Invoices').get(id)!.Comments).toBe('Thanks!\nPay online: https://x/pay/1');
  });
});
