// qbXML for putting a deposit edited by hand back as Settle posted it (deposit-restore.ts): the deposit by its
// TxnID (its EditSequence, total and lines), then DepositMod (qbxml130.xsd › element DepositMod: TxnCoreMod =
// TxnID + EditSequence, TxnDate, DepositToAccountRef, Memo, DepositLineMod*). A Mod that names lines replaces
// them all — lines it leaves out are removed — so every line is restated, each as a new line (TxnLineID -1):
// the payments by PaymentTxnID (group PaymentLine) and the other lines (group DepositInfoMod).
import { amount, memoWithMarker, ref, render, type Node } from './xml.ts';
import { depositPaymentLine, type DepositAddInput } from './requests.ts';

export function depositQueryByTxnId(requestID: string, txnId: string): string {
  return render([
    'DepositQueryRq',
    [
      ['TxnID', txnId],
      ['IncludeLineItems', 'true'],
    ],
    { requestID },
  ]);
}

/** The deposit as DepositAdd would write it (idempotencyKey: the deposit's own key, so its memo keeps the marker). */
export interface DepositModInput extends DepositAddInput {
  readonly txnId: string;
  readonly editSequence: string;
}

export function depositModRequest(requestID: string, d: DepositModInput): string {
  return render([
    'DepositModRq',
    [
      [
        'DepositMod',
        [
          ['TxnID', d.txnId],
          ['EditSequence', d.editSequence],
          ['TxnDate', d.txnDate],
          ref('DepositToAccountRef', d.depositTo),
          ['Memo', memoWithMarker(d.memo, d.idempotencyKey)],
          ...d.paymentTxnIds.map((id): Node => ['DepositLineMod', [['TxnLineID', '-1'], ...depositPaymentLine(id, d.paymentClasses)]]),
          ...d.otherLines.map((l): Node => [
            'DepositLineMod',
            [
              ['TxnLineID', '-1'],
              ref('EntityRef', l.entity),
              ref('AccountRef', l.account),
              ['Memo', l.memo],
              ref('ClassRef', l.classRef),
              ['Amount', amount(l.amount)],
            ],
          ]),
        ],
      ],
    ],
    { requestID },
  ]);
}
