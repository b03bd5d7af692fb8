// recordFailure against the ConnectWise simulator over real HTTP: a flagged company note carrying our
// reference, written once even when the answer to the POST is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectWiseSimulator, type RunningConnectWiseSimulator } from '../../../../simulators/connectwise/index.ts';
import { createConnectWiseConnector } from './connector.ts';

let cw: RunningConnectWiseSimulator;
beforeAll(async () => {
  cw = await startConnectWiseSimulator({ seed: { companies: 2, invoices: 2, seed: 3 } });
});
afterAll(async () => cw.close());

const connector = () => createConnectWiseConnector({ baseUrl: cw.baseUrl, ...cw.credentials, api: { sleep: async () => {} } });
const companyId = () => String(cw.state.companies.all()[0]!.id);

describe('ConnectWise recordFailure (company note)', () => {
  it('writes a flagged note with our reference, and finds it instead of writing again', async () => {
    const input = {
      clientExternalId: companyId(),
      text: 'Payment of $450.00 for INV-10001 failed: card declined.',
      reference: 'settle-failure:abc-1',
      idempotencyKey: 'failure:abc-1:connectwise:note',
    };
    const first = await connector().recordFailure(input);
    expect(first.alreadyRecorded).toBe(false);
    const note = cw.state.companyNotes.get(Number(first.remoteId))!;
    expect(note).toMatchObject({ flagged: true, company: { id: Number(companyId()) }, enteredBy: 'settle-api' });
    expect(note.text).toContain('INV-10001');
    expect(note.text).toContain('[settle-failure:abc-1]');

    const again = await connector().recordFailure(input);
    expect(again).toEqual({ remoteId: first.remoteId, alreadyRecorded: true });
    expect(cw.state.companyNotes.all().filter((n) => n.text.includes('[settle-failure:abc-1]'))).toHaveLength(1);
  });

  it('a lost answer to the POST: the retry checks first and finds the note (one note)', async () => {
    cw.sim.lostAnswers.add({ method: 'POST', pathPattern: '/notes$', fault: { kind: 'drop' }, times: 1 });
    const r = await connector().recordFailure({
      clientExternalId: companyId(),
      text: 'Payment failed.',
      reference: 'settle-failure:lost-1',
      idempotencyKey: 'k',
    });
    expect(r.alreadyRecorded).toBe(true);
    expect(cw.state.companyNotes.all().filter((n) => n.text.includes('[settle-failure:lost-1]'))).toHaveLength(1);
  });

  it('the simulator refuses a note without text and an unknown company, as ConnectWise does', async () => {
    const headers = {
      authorization: `Basic ${Buffer.from(`${cw.credentials.companyId}+${cw.credentials.publicKey}:${cw.credentials.privateKey}`).toString('base64')}`,
      clientId: cw.credentials.clientId,
      'content-type': 'application/json',
    };
    const bad = await fetch(`${cw.baseUrl}/company/companies/${companyId()}/notes`, { method: 'POST', headers, body: JSON.stringify({ text: ' ' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors[0]!.field).toBe('text');
    const missing = await fetch(`${cw.baseUrl}/company/companies/999999/notes`, { headers });
    expect(missing.status).toBe(404);
    await expect(
      connector().recordFailure({ clientExternalId: '999999', text: 'x', reference: 'settle-failure:x', idempotencyKey: 'k' }),
    ).rejects.toMatchObject({ kind: 'not_found' });
  });
});
