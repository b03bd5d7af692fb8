import { describe, expect, it } from 'vitest';
import { WebhookRejected } from '../../webhook-rejected.ts';
import { parseQboWebhook, signQboWebhook } from './webhook.ts';

const TOKEN = 'verifier-token-123';

describe('QuickBooks Online webhooks', () => {
  it('reads the legacy eventNotifications format', () => {
    const body = JSON.stringify({
      eventNotifications: [
        {
          realmId: '9341',
          dataChangeEvent: {
            entities: [
              { name: 'Payment', id: '131', operation: 'Create', lastUpdated: '2025-03-14T10:00:00.000Z' },
              { name: 'Invoice', id: '130', operation: 'Update', lastUpdated: '2025-03-14T10:00:00.000Z' },
            ],
          },
        },
      ],
    });
    const changes = parseQboWebhook(body, signQboWebhook(body, TOKEN), TOKEN);
    expect(changes.map((c) => [c.realmId, c.entity, c.id, c.operation])).toEqual([
      ['9341', 'Payment', '131', 'create'],
      ['9341', 'Invoice', '130', 'update'],
    ]);
  });

  it('reads the CloudEvents format', () => {
    const body = JSON.stringify([
      {
        specversion: '1.0',
        id: 'evt-1',
        source: 'intuit.x',
        type: 'qbo.invoice.voided.v1',
        time: '2025-03-14T10:00:00Z',
        intuitentityid: '95',
        intuitaccountid: '310687',
        data: {},
      },
      { specversion: '1.0', id: 'evt-2', source: 'intuit.x', type: 'qbo.journalentry.restored.v1', intuitentityid: '7', intuitaccountid: '310687' },
    ]);
    const [a, b] = parseQboWebhook(Buffer.from(body), signQboWebhook(body, TOKEN), TOKEN);
    expect(a).toMatchObject({ realmId: '310687', entity: 'Invoice', id: '95', operation: 'void', dedupeKey: 'evt-1' });
    expect(b).toMatchObject({ entity: 'JournalEntry', operation: 'other', rawOperation: 'restored' });
  });

  it('rejects a bad, missing or other-token signature, and malformed bodies', () => {
    const body = JSON.stringify({ eventNotifications: [] });
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof WebhookRejected ? e.reason : 'other';
      }
      return 'accepted';
    };
    expect(reason(() => parseQboWebhook(body, signQboWebhook(body, 'other-token'), TOKEN))).toBe('bad_signature');
    expect(reason(() => parseQboWebhook(body, undefined, TOKEN))).toBe('bad_signature');
    expect(reason(() => parseQboWebhook(`${body} `, signQboWebhook(body, TOKEN), TOKEN))).toBe('bad_signature');
    expect(reason(() => parseQboWebhook(body, signQboWebhook(body, TOKEN), TOKEN))).toBe('accepted');
    const junk = '{"hello":1}';
    expect(reason(() => parseQboWebhook(junk, signQboWebhook(junk, TOKEN), TOKEN))).toBe('malformed');
  });
});
