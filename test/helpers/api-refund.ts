// A refund as staff's integrations ask for it: POST /api/v1/payments/:id/refunds with an API key; 201 expected.
import { expect } from 'vitest';

export async function refundThroughApi(settleUrl: string, apiKey: string, paymentId: string, amountMinor: bigint, reason = 'seat cancelled'): Promise<void> {
  const res = await fetch(`${settleUrl}/api/v1/payments/${paymentId}/refunds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ amount_minor: amountMinor.toString(), reason }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}
