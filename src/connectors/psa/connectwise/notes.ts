// A failed client payment, shown in ConnectWise as a flagged company note. ConnectWise has no
// payment-failure status on invoices and its Payment record cannot be negative or carry text, so a note
// on the company is where an account manager looks (and flagged notes stand out there). The API takes no
// idempotency key, so our reference is written into the note's text and looked for before every write.
import { z } from 'zod';
import { retryDecision, sleep as defaultSleep } from '../../http.ts';
import type { RecordFailureInput, RecordPaymentResult } from '../types.ts';
import { cwString, type ConnectWiseApi } from './api.ts';

const cwCompanyNote = z.object({ id: z.number(), text: z.string(), flagged: z.boolean().nullable().optional() }).passthrough();

/** ConnectWise note text limit is not published; keep notes short enough for any site (assumption). */
const MAX_TEXT = 2000;

export function noteText(input: RecordFailureInput): string {
  const tag = `[${input.reference}]`;
  return `${input.text.slice(0, MAX_TEXT - tag.length - 1)}\n${tag}`;
}

export async function recordFailureNote(
  api: ConnectWiseApi,
  input: RecordFailureInput,
  opts: { maxAttempts?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<RecordPaymentResult> {
  if (!input.idempotencyKey) throw new Error('recordFailure needs an idempotencyKey');
  if (!/^\d+$/.test(input.clientExternalId)) throw new Error(`"${input.clientExternalId}" is not a ConnectWise company id`);
  if (!/^[A-Za-z0-9:_-]+$/.test(input.reference)) throw new Error(`reference "${input.reference}" must be letters, digits, ':', '_' or '-'`);
  const path = `/company/companies/${input.clientExternalId}/notes`;
  const sleep = opts.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    // Check before every write, including a retry after a failure whose outcome is unknown.
    const { rows } = await api.getList(path, { conditions: `text contains ${cwString(`[${input.reference}]`)}`, pageSize: 1 });
    const existing = z.array(cwCompanyNote).parse(rows)[0];
    if (existing) return { remoteId: String(existing.id), alreadyRecorded: true };
    try {
      const created = cwCompanyNote.parse(await api.post(path, { text: noteText(input), flagged: true }));
      return { remoteId: String(created.id), alreadyRecorded: false };
    } catch (e) {
      const decision = retryDecision(e, attempt, opts.maxAttempts ?? 5);
      if (!decision.retry) throw e;
      await sleep(decision.delayMs);
    }
  }
}
