// HaloPSA's own invoice PDF in the client portal (issue #12): Halo's published description has
// `POST /Invoice/PDF/{id}`; the connector fetches it (Bearer token from Halo's client-credentials flow) and
// the portal's invoice page offers it, as it does for ConnectWise and Autotask. The simulator's route is as
// strict as the description: a Bearer token, an integer id, no query parameters, Halo's problem details.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHaloSimulator } from '../../simulators/halopsa/index.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { pdfText } from '../helpers/pdf-text.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack<'halopsa'>;
let halo: RunningHaloSimulator;

beforeAll(async () => {
  stack = await startStack({ psa: 'halopsa', companies: 1, invoices: 2 });
  halo = stack.sims.halopsa as unknown as RunningHaloSimulator;
}, 180_000);
afterAll(async () => stack?.close());

async function haloToken(): Promise<string> {
  const res = await fetch(`${halo.baseUrl}/auth/token?tenant=${halo.credentials.tenant}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: halo.credentials.clientId,
      client_secret: halo.credentials.clientSecret,
      scope: 'all',
    }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe('HaloPSA invoice PDF', () => {
  it('the portal invoice page offers the PDF Halo renders, fetched through the connector', async () => {
    const inv = await withTenant(stack.database.db, stack.tenantId, (tx) =>
      tx.selectFrom('invoices').select(['id', 'number', 'client_id']).orderBy('number').executeTakeFirstOrThrow(),
    );
    const token = await stack.portalToken(inv.client_id);
    const page = await fetch(`${stack.settleUrl}/portal/${token}/invoices/${inv.id}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('id="invoice-pdf"');
    expect(html).toContain('PDF from HaloPSA');
    const pdf = await fetch(`${stack.settleUrl}/portal/${token}/invoices/${inv.id}/pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const text = pdfText(Buffer.from(await pdf.arrayBuffer()));
    expect(text).toContain(`Invoice ${inv.number}`);
    // It was Halo's route that drew it.
    expect(halo.sim.calls.counts.get('POST /api/Invoice/PDF/:id')).toBeGreaterThan(0);
  });

  it('an invoice Halo does not have: no PDF (the portal says so in words); the route refuses what Halo would', async () => {
    const psa = (await stack.settle!.ctx.connectors.psa(stack.tenantId))!;
    expect(await psa.invoicePdf!('987654')).toBeNull();

    const bearer = await haloToken();
    const post = (path: string, auth = true) =>
      fetch(`${halo.baseUrl}/api${path}`, { method: 'POST', headers: auth ? { authorization: `Bearer ${bearer}` } : {} });
    const noAuth = await post('/Invoice/PDF/1', false);
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers.get('www-authenticate')).toBe('Bearer');
    const notInt = await post('/Invoice/PDF/abc');
    expect(notInt.status).toBe(400);
    expect(((await notInt.json()) as { errors: Record<string, string[]> }).errors['id']).toEqual(["The value 'abc' is not valid."]);
    const unknownParam = await post('/Invoice/PDF/1?format=html');
    expect(unknownParam.status).toBe(400);
    expect(JSON.stringify(await unknownParam.json())).toContain("'format' is not a parameter of POST /Invoice/PDF/{id}");
    const missing = await post('/Invoice/PDF/987654');
    expect(missing.status).toBe(404);
    // GET is not a method of the route in Halo's description: a bare 404, as for any route Halo does not have.
    const get = await fetch(`${halo.baseUrl}/api/Invoice/PDF/1`, { headers: { authorization: `Bearer ${bearer}` } });
    expect(get.status).toBe(404);
  });
});
