// Named places where a test can make the process die with SIGKILL (SETTLE_CRASH_AT=<name>), to prove that
// a crash at that point and a restart leave nothing lost and nothing done twice. Inert unless set.
export type CrashPoint =
  | 'after-payment-succeeded-committed' // processor said yes, our state committed, no posting done yet
  | 'after-psa-payment-sent' // ConnectWise has the payment, our posting row not yet marked
  | 'after-accounting-payments-sent' // QuickBooks has the payments, our posting rows not yet marked
  | 'autopay-after-charge-planned' // autopay run: payment and attempt committed, processor not yet called
  | 'autopay-after-charge-sent' // autopay run: the processor answered, the answer not yet recorded
  | 'after-ach-file-delivered' // bank ACH: the file is at the bank, not yet recorded as sent
  | 'after-pay-link-written'; // the PSA shows the invoice's pay link, not yet recorded here

const armed = process.env.SETTLE_CRASH_AT;

export function crashPoint(name: CrashPoint): void {
  if (armed === name) {
    process.stderr.write(`SETTLE_CRASH_AT=${name}: killing the process now\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
