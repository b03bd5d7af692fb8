import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../../src/db/tenant.ts';
import { queueEmail } from '../../src/notify/queue-email.ts';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';

let smtp: TestSmtp;
let stack: Stack;
beforeAll(async () => {
  smtp = await startTestSmtp();
  stack = await startStack({ smtpUrl: smtp.url });
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

describe('email outbox', () => {
  it('sends a queued email once through SMTP, even when queued twice with the same key', async () => {
    for (let i = 0; i < 2; i++) {
      await withTenant(stack.database.db, stack.tenantId, (tx) =>
        queueEmail(tx, stack.tenantId, {
          kind: 'test',
          clientId: null,
          to: 'ap@client.test',
          subject: 'Your receipt',
          text: 'Thank you',
          idempotencyKey: 'receipt:1',
        }),
      );
    }
    await eventually(async () => smtp.received.length >= 1, 10_000, 'email received');
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.to).toEqual(['ap@client.test']);
    expect(smtp.received[0]!.subject).toBe('Your receipt');
    expect(smtp.received[0]!.raw).toContain('Acme IT');
    const rows = await withTenant(stack.database.db, stack.tenantId, (tx) => tx.selectFrom('notifications').select(['status', 'sent_at']).execute());
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('sent');
  });

  it('an email queued in a transaction that rolls back is never sent', async () => {
    await expect(
      withTenant(stack.database.db, stack.tenantId, async (tx) => {
        await queueEmail(tx, stack.tenantId, {
          kind: 'test',
          clientId: null,
          to: 'ap@client.test',
          subject: 'Rolled back',
          text: 'x',
          idempotencyKey: 'rollback:1',
        });
        throw new Error('the event that caused it failed');
      }),
    ).rejects.toThrow(/failed/);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.received.map((m) => m.subject)).not.toContain('Rolled back');
  });
});
