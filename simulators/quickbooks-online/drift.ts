// Simulator-only: what a bookkeeper does by hand in QuickBooks' own screens that Settle's three-way
// reconciliation must catch (issue #11) — so the demo can show a newcomer the report finding it.
//   POST /_sim/drift {"kind":"hand-payment","invoice":"1042","amount":"50.00"}  a payment entered by hand
//   POST /_sim/drift {"kind":"edit-deposit","deposit":"<Id, default the latest>","amount":"1.00"} a line added
//   POST /_sim/drift {"kind":"delete-payment","payment":"<Id>"} / {"kind":"void-payment", …}
//   POST /_sim/drift {"kind":"delete-deposit","deposit":"<Id>"}
// Every change goes through the same rules as the API (a deposited payment cannot be deleted, …): a
// refusal is answered in QuickBooks' fault shape.
import type { FastifyInstance } from 'fastify';
import { QboFault, faultBody, faults } from './faults.ts';
import type { Entity, QboStore } from './store.ts';
import { createPayment } from './transactions.ts';
import { updateDeposit } from './deposit.ts';
import { deleteRecord, voidRecord } from './lifecycle.ts';

/** A payment typed in by a person: no Settle marker, a cheque number, applied to the invoice of that number. */
export function enterPaymentByHand(store: QboStore, invoiceNumber: string, amount?: string): Entity {
  const invoice = store.list('Invoice').find((i) => i['DocNumber'] === invoiceNumber);
  if (!invoice) throw faults.objectNotFound('Invoice', invoiceNumber);
  const value = amount ?? String(invoice['Balance']);
  return createPayment(store, {
    CustomerRef: invoice['CustomerRef'],
    TotalAmt: value,
    PaymentRefNum: `CHK-${invoiceNumber}`,
    PrivateNote: 'Cheque received (entered by hand)',
    Line: [{ Amount: value, LinkedTxn: [{ TxnId: invoice.Id, TxnType: 'Invoice' }] }],
  });
}

/** A deposit changed by hand: a bank charge line of −amount added, so it no longer equals the bank line. */
export function editDepositByHand(store: QboStore, depositId?: string, amount = '1.00'): Entity {
  const deposits = store.list('Deposit');
  const d = depositId ? store.get('Deposit', depositId) : deposits[deposits.length - 1];
  if (!d) throw faults.objectNotFound('Deposit', depositId ?? '(latest)');
  const line = {
    Amount: -Number(amount),
    DetailType: 'DepositLineDetail',
    Description: 'Bank charge (entered by hand)',
    DepositLineDetail: { AccountRef: { value: store.defaults.merchantFees } },
  };
  return updateDeposit(store, {
    Id: d.Id,
    SyncToken: d.SyncToken,
    sparse: true,
    DepositToAccountRef: d['DepositToAccountRef'],
    Line: [...((d['Line'] as unknown[]) ?? []), line],
  });
}

export function registerDriftRoutes(app: FastifyInstance, store: QboStore): void {
  app.post('/_sim/drift', async (req, reply) => {
    const b = (req.body ?? {}) as { kind?: unknown; invoice?: unknown; amount?: unknown; deposit?: unknown; payment?: unknown };
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
    try {
      switch (b.kind) {
        case 'hand-payment': {
          const invoice = str(b.invoice);
          if (!invoice) return reply.code(400).send({ error: 'invoice (the invoice number) is required for a hand-entered payment' });
          return { kind: b.kind, payment: enterPaymentByHand(store, invoice, str(b.amount)) };
        }
        case 'edit-deposit':
          return { kind: b.kind, deposit: editDepositByHand(store, str(b.deposit), str(b.amount)) };
        case 'delete-payment':
        case 'void-payment':
        case 'delete-deposit': {
          const entity = b.kind === 'delete-deposit' ? 'Deposit' : 'Payment';
          const id = str(entity === 'Deposit' ? b.deposit : b.payment);
          if (!id) return reply.code(400).send({ error: `${entity === 'Deposit' ? 'deposit' : 'payment'} (its Id) is required` });
          const e = store.get(entity, id);
          const ref = { Id: e.Id, SyncToken: e.SyncToken, sparse: true };
          return { kind: b.kind, result: b.kind === 'void-payment' ? voidRecord(store, entity, ref) : deleteRecord(store, entity, ref) };
        }
        default:
          return reply.code(400).send({ error: 'kind must be hand-payment, edit-deposit, delete-payment, void-payment or delete-deposit' });
      }
    } catch (e) {
      if (!(e instanceof QboFault)) throw e;
      return reply.code(e.status).send(faultBody(e));
    }
  });
}
