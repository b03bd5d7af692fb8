// QuickBooks Online webhooks (docs: developer.intuit.com … /develop/webhooks). The signature is the
// `intuit-signature` header: base64(HMAC-SHA256(raw body, the app's verifier token)). The push only
// names what changed, never the data: callers fetch the entity (or run CDC) afterwards.
// Two payload formats are in use: the legacy `{eventNotifications:[{realmId, dataChangeEvent:
// {entities:[{name,id,operation,lastUpdated}]}}]}` and the CloudEvents array Intuit is moving to
// (`[{specversion, id, type:"qbo.invoice.created.v1", time, intuitentityid, intuitaccountid}]`).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookRejected } from '../../webhook-rejected.ts';

export type QboOperation = 'create' | 'update' | 'delete' | 'merge' | 'void' | 'emailed' | 'other';

export interface QboChange {
  readonly realmId: string;
  /** Entity name as QBO spells it: Invoice, Payment, Deposit, … */
  readonly entity: string;
  readonly id: string;
  readonly operation: QboOperation;
  /** The vendor's operation word, kept when it maps to 'other'. */
  readonly rawOperation: string;
  readonly occurredAt: string | null;
  /** For inbox de-duplication: the CloudEvent id, or one built from the legacy fields. */
  readonly dedupeKey: string;
}

export function signQboWebhook(rawBody: string | Buffer, verifierToken: string): string {
  return createHmac('sha256', verifierToken).update(rawBody).digest('base64');
}

export function verifyQboWebhook(rawBody: string | Buffer, signature: string | undefined, verifierToken: string): void {
  if (!signature) throw new WebhookRejected('bad_signature', 'intuit-signature header is missing');
  const expected = Buffer.from(signQboWebhook(rawBody, verifierToken), 'base64');
  const given = Buffer.from(signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new WebhookRejected('bad_signature', 'intuit-signature does not match the body');
  }
}

const OPERATIONS: Readonly<Record<string, QboOperation>> = {
  create: 'create',
  created: 'create',
  update: 'update',
  updated: 'update',
  delete: 'delete',
  deleted: 'delete',
  merge: 'merge',
  merged: 'merge',
  void: 'void',
  voided: 'void',
  emailed: 'emailed',
};

const operationOf = (word: string): QboOperation => OPERATIONS[word.toLowerCase()] ?? 'other';
const ENTITY_NAMES: Readonly<Record<string, string>> = {
  invoice: 'Invoice',
  payment: 'Payment',
  deposit: 'Deposit',
  customer: 'Customer',
  account: 'Account',
  purchase: 'Purchase',
  journalentry: 'JournalEntry',
  item: 'Item',
  creditmemo: 'CreditMemo',
  salesreceipt: 'SalesReceipt',
};
const entityName = (word: string): string => ENTITY_NAMES[word.toLowerCase()] ?? word.charAt(0).toUpperCase() + word.slice(1);

type Json = Record<string, unknown>;
const str = (v: unknown, what: string): string => {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') return String(v);
  throw new WebhookRejected('malformed', `QuickBooks webhook: ${what} missing`);
};

/** Verify, then read the changes of either payload format. */
export function parseQboWebhook(rawBody: string | Buffer, signature: string | undefined, verifierToken: string): QboChange[] {
  verifyQboWebhook(rawBody, signature, verifierToken);
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString());
  } catch {
    throw new WebhookRejected('malformed', 'QuickBooks webhook body is not JSON');
  }
  if (Array.isArray(body)) return body.map((e) => fromCloudEvent(e as Json));
  const notes = (body as Json | null)?.['eventNotifications'];
  if (!Array.isArray(notes)) throw new WebhookRejected('malformed', 'QuickBooks webhook has neither CloudEvents nor eventNotifications');
  return notes.flatMap((n: Json) => {
    const realmId = str(n['realmId'], 'realmId');
    const entities = ((n['dataChangeEvent'] as Json | undefined)?.['entities'] ?? []) as Json[];
    return entities.map((e) => {
      const rawOperation = str(e['operation'], 'operation');
      const entity = entityName(str(e['name'], 'entity name'));
      const id = str(e['id'], 'entity id');
      const occurredAt = typeof e['lastUpdated'] === 'string' ? e['lastUpdated'] : null;
      return {
        realmId,
        entity,
        id,
        operation: operationOf(rawOperation),
        rawOperation,
        occurredAt,
        dedupeKey: `${realmId}:${entity}:${id}:${rawOperation}:${occurredAt ?? ''}`,
      };
    });
  });
}

function fromCloudEvent(e: Json): QboChange {
  const type = str(e['type'], 'type'); // qbo.<entity>.<operation>.v<n>
  const m = /^qbo\.([a-z]+)\.([a-z]+)\.v\d+$/i.exec(type);
  if (!m) throw new WebhookRejected('malformed', `QuickBooks webhook: unexpected event type ${type}`);
  return {
    realmId: str(e['intuitaccountid'], 'intuitaccountid'),
    entity: entityName(m[1]!),
    id: str(e['intuitentityid'], 'intuitentityid'),
    operation: operationOf(m[2]!),
    rawOperation: m[2]!,
    occurredAt: typeof e['time'] === 'string' ? e['time'] : null,
    dedupeKey: str(e['id'], 'id'),
  };
}
