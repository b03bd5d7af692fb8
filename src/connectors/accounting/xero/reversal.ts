// Taking back (part of) a payment in Xero: a refund, an ACH return, a lost dispute. Xero lets a payment be
// deleted and nothing else changed, and has no partial reversal of an invoice payment, so:
//   - the payment now standing for the original (the original, or its latest replacement) is deleted —
//     the invoice owes that money again and it leaves the clearing account, where the later payout's
//     refund/adjustment meets it (deposit.ts);
//   - what is not taken back is paid again at once: a new payment of the remainder, same invoice, same
//     clearing account, same date, tagged `[replaces:<original id>]` and with this reversal's marker.
// Steps are safe to repeat: the marker finds a finished reversal; a crash after the delete finds the
// deleted head and posts the remainder. A part refunded before the payment reached the books was never
// paid in (`[unapplied:<minor>]` on the payment, connector.ts): the first reversal absorbs it.
// Xero refuses to delete a reconciled payment or one before the lock date: a final refusal a person sees.
import { money } from '../../../domain/money.ts';
import type { PostResult, ReversePaymentInput } from '../types.ts';
import type { Json } from './api.ts';
import type { XeroConnector } from './connector.ts';
import { amountOf, carries, idempotencyKeyFor, itemErrors, marker, moneyOf, xeroDateMs } from './mapping.ts';

const MARKS = /\s*\[(settle|replaces|unapplied):[^\]]*\]/g;

export async function reverseXeroPayment(x: XeroConnector, input: ReversePaymentInput): Promise<PostResult> {
  if (input.paymentRemoteId.startsWith('none:')) return { ok: true, remoteId: input.paymentRemoteId }; // never reached Xero (connector.ts)
  const mark = marker(input.idempotencyKey);
  const gen = input.requestGeneration ?? 0;
  const done = (await x.paymentsMarked([mark])).find((p) => carries(p, mark));
  if (done) return { ok: true, remoteId: String(done['PaymentID']) };
  const rootRes = await x.api.call({ method: 'GET', path: `/Payments/${encodeURIComponent(input.paymentRemoteId)}` });
  const root = ((rootRes['Payments'] as Json[] | undefined) ?? [])[0];
  if (!root) return { ok: false, retryable: false, error: `payment ${input.paymentRemoteId} is not in Xero` };
  const chain = [root, ...(await x.paymentsMarked([`[replaces:${input.paymentRemoteId}]`]))];
  const live = chain.filter((p) => p['Status'] === 'AUTHORISED');
  const head =
    live.length > 0 ? live[live.length - 1]! : chain.sort((a, b) => xeroDateMs(a['UpdatedDateUTC']) - xeroDateMs(b['UpdatedDateUTC']))[chain.length - 1]!;
  const unapplied = chain.length === 1 ? Number(/\[unapplied:(\d+)\]/.exec(String(root['Reference'] ?? ''))?.[1] ?? 0) : 0;
  const takeBack = input.amount.amountMinor - BigInt(Math.min(unapplied, Number(input.amount.amountMinor)));
  if (takeBack === 0n) return { ok: true, remoteId: String(head['PaymentID']) }; // the refunded part never reached Xero
  const headAmount = moneyOf(head['Amount'], x.currency);
  const remainder = headAmount.amountMinor - takeBack;
  if (remainder < 0n) {
    return {
      ok: false,
      retryable: false,
      error: `the reversal (${takeBack} minor units) is more than payment ${String(head['PaymentID'])} holds in Xero (${headAmount.amountMinor})`,
    };
  }
  if (head['Status'] === 'AUTHORISED') {
    const del = await x.api.call({
      method: 'POST',
      path: `/Payments/${encodeURIComponent(String(head['PaymentID']))}`,
      body: { Status: 'DELETED' },
      idempotencyKey: idempotencyKeyFor([input.idempotencyKey, 'delete'], gen),
    });
    const err = itemErrors(((del['Payments'] as Json[] | undefined) ?? [])[0] ?? { StatusAttributeString: 'OK' });
    if (err) return { ok: false, retryable: false, error: `Xero refused to delete payment ${String(head['PaymentID'])}: ${err}` };
  }
  if (remainder === 0n) return { ok: true, remoteId: String(head['PaymentID']) };
  const base = String(head['Reference'] ?? '').replace(MARKS, '');
  const res = await x.api.call({
    method: 'PUT',
    path: '/Payments',
    params: { summarizeErrors: 'false' },
    body: {
      Payments: [
        {
          Invoice: { InvoiceID: (head['Invoice'] as Json)['InvoiceID'] },
          Account: { AccountID: (head['Account'] as Json)['AccountID'] },
          Date: new Date(xeroDateMs(head['Date'])).toISOString().slice(0, 10),
          Amount: amountOf(money(remainder, x.currency)),
          Reference: `${base} ${mark} [replaces:${input.paymentRemoteId}]`.slice(-255),
        },
      ],
    },
    idempotencyKey: idempotencyKeyFor([input.idempotencyKey, 'remainder'], gen),
  });
  const row = ((res['Payments'] as Json[] | undefined) ?? [])[0];
  const err = itemErrors(row);
  if (err) return { ok: false, retryable: false, error: `Xero refused the remainder payment after reversing ${input.amount.amountMinor} minor units: ${err}` };
  return { ok: true, remoteId: String(row!['PaymentID']) };
}
