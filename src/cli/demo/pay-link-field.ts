// The invoice field a simulated MSP has made for pay links (connectors/psa/pay-link.ts): ConnectWise's "Pay Link"
// custom field and HaloPSA's CFSettlePayLink; Autotask needs none (the link goes into the invoice Comments).
// In this process when the simulator runs here, else through its `/_sim` control route.
import { defineInvoiceCustomField } from '../../../simulators/connectwise/custom-fields.ts';
import { defineInvoiceCustomField as defineHaloField } from '../../../simulators/halopsa/custom-fields.ts';
import type { RunningConnectWiseSimulator } from '../../../simulators/connectwise/index.ts';
import type { RunningHaloSimulator } from '../../../simulators/halopsa/index.ts';
import type { DemoPsa, PsaSimulators } from './psa-simulators.ts';

export async function definePayLinkFieldIn(vendor: DemoPsa, sim: PsaSimulators[DemoPsa] | undefined): Promise<void> {
  if (!sim || vendor === 'autotask') return;
  if (vendor === 'connectwise') {
    const cw = sim as Partial<RunningConnectWiseSimulator>;
    if (cw.state) defineInvoiceCustomField(cw.state, 'Pay Link');
    else if (cw.origin) await post(`${cw.origin}/_sim/invoice-custom-fields`, { caption: 'Pay Link' });
    return;
  }
  const halo = sim as Partial<RunningHaloSimulator>;
  if (halo.sim?.state) defineHaloField(halo.sim.state, 'CFSettlePayLink', 'Pay now');
  else if (halo.baseUrl) await post(`${halo.baseUrl}/_sim/invoice-custom-fields`, { name: 'CFSettlePayLink', label: 'Pay now' });
}

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`defining the pay link field at ${url}: ${res.status}`);
}
