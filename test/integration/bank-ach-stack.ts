// Shared setup of the bank-ACH integration tests: the usual stack (database, ConnectWise, Stripe, QuickBooks
// simulators, Settle in-process) plus the SFTP bank simulator, with the workspace's bank ACH connection saved
// as an MSP would (`settle connect bank_ach bank-ach …`). The connection is on the 'manual' schedule so that
// only the test decides when files are built and the outbox is read; the test's clock (`at`) is a banking
// day after today, so every date the code derives is in the future whatever day the tests run.
import { SecretBox } from '../../src/db/crypto.ts';
import { withTenant } from '../../src/db/tenant.ts';
import { saveConnection } from '../../src/engine/connections.ts';
import type { EngineContext } from '../../src/engine/context.ts';
import { addBankingDays, addDays } from '../../src/domain/rules/index.ts';
import { localClock } from '../../src/connectors/payments/bank-ach/windows.ts';
import { mandateTemplateSha256 } from '../../src/engine/ach-mandate.ts';
import { startBankSftpSimulator, type RunningBankSftpSimulator } from '../../simulators/bank-sftp/index.ts';
import { openInvoices, startStack, type Stack, type StackOptions } from '../helpers/stack.ts';

export interface BankAchStack {
  readonly stack: Stack;
  readonly bank: RunningBankSftpSimulator;
  readonly box: SecretBox;
  /** A banking day after today (bank time, America/New_York). */
  readonly day1: string;
  /** Settle's engine context with the clock at `date` `HH:MM` New York time (EST/EDT handled by offset). */
  at(date: string, hhmm: string): EngineContext;
  close(): Promise<void>;
}

export const COMPANY = { companyName: 'ACME IT', companyId: '1234567890', immediateOrigin: '1234567890' } as const;

export async function startBankAchStack(opts: StackOptions & { config?: Record<string, unknown> } = {}): Promise<BankAchStack> {
  const stack = await startStack(opts);
  const bank = await startBankSftpSimulator();
  const box = SecretBox.fromHex(stack.secretKeyHex);
  await saveConnection(stack.database.db, box, stack.tenantId, {
    role: 'bank_ach',
    vendor: 'bank-ach',
    config: {
      odfiRoutingNumber: bank.routingNumber,
      ...COMPANY,
      sftp: { host: bank.host, port: bank.port, username: bank.username, hostKeySha256: bank.hostKeySha256, timeoutMs: 5000 },
      schedule: 'manual',
      sameDayEnabled: true,
      ...opts.config,
    },
    secrets: { password: bank.password },
    actor: 'system:test',
  });
  stack.settle?.ctx.connectors.forget(stack.tenantId);
  const today = localClock(new Date(), 'America/New_York').date;
  const day1 = addBankingDays(addDays(today, 1), 0);
  const at = (date: string, hhmm: string): EngineContext => {
    // New York is UTC-5 in winter and UTC-4 in summer: find the instant whose New York clock reads date hhmm.
    for (const offset of [5, 4]) {
      const t = new Date(`${date}T${hhmm}:00Z`);
      t.setUTCHours(t.getUTCHours() + offset);
      const c = localClock(t, 'America/New_York');
      if (!stack.settle) throw new Error('no in-process Settle: the test clock needs it');
      if (c.date === date && c.time === hhmm) return { ...stack.settle.ctx, now: () => t };
    }
    throw new Error(`no New York instant for ${date} ${hhmm}`);
  };
  return {
    stack,
    bank,
    box,
    day1,
    at,
    close: async () => {
      await bank.close();
      await stack.close();
    },
  };
}

export async function portalPost(
  s: BankAchStack,
  clientId: string,
  path: 'bank-account' | 'pay-by-bank',
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const token = await s.stack.portalToken(clientId);
  const res = await fetch(`${s.stack.settleUrl}/portal/${token}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'bank-ach-test' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Authorize debits from a bank account in the portal, as the client does. */
export async function authorizeAccount(
  s: BankAchStack,
  clientId: string,
  account: { holderKind: 'business' | 'personal'; accountNumber: string; routingNumber?: string; accountType?: 'checking' | 'savings'; holderName?: string },
): Promise<{ bank_account_id: string; sec_code: string; validation: string; last4: string; mandate_text: string }> {
  const r = await portalPost(s, clientId, 'bank-account', {
    holder_name: account.holderName ?? 'Pat Example',
    holder_kind: account.holderKind,
    routing_number: account.routingNumber ?? '021000021',
    account_number: account.accountNumber,
    account_type: account.accountType ?? 'checking',
    agree: true,
    mandate_sha256: mandateTemplateSha256(),
  });
  if (r.status !== 201) throw new Error(`authorize failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as never;
}

/** Open invoices grouped by client, largest group first. */
export async function invoicesByClient(s: BankAchStack): Promise<{ clientId: string; invoices: Awaited<ReturnType<typeof openInvoices>> }[]> {
  const all = await openInvoices(s.stack);
  const by = new Map<string, typeof all>();
  for (const i of all) by.set(i.client_id, [...(by.get(i.client_id) ?? []), i]);
  return [...by].map(([clientId, invoices]) => ({ clientId, invoices })).sort((a, b) => b.invoices.length - a.invoices.length);
}

export function q(s: BankAchStack) {
  return <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant<T>(s.stack.database.db, s.stack.tenantId, fn);
}
