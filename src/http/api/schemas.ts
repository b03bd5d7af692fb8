// Response shapes shared by the API routes. Amounts are strings of minor units ("12345" = 123.45):
// JSON numbers cannot carry every bigint exactly, and clients must not do float math on them.
import { z } from 'zod';

export const minor = z
  .string()
  .regex(/^-?\d+$/)
  .describe('amount in minor units (cents), as a string');

// passthrough: some errors carry facts beside the message (the payment already in flight, an idempotency error's type).
export const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }).passthrough() });

export const invoiceSummary = z.object({
  id: z.string().uuid(),
  number: z.string(),
  client_id: z.string().uuid(),
  client_name: z.string(),
  currency: z.string(),
  total_minor: minor,
  open_minor: minor,
  status: z.string(),
  psa_status: z.string(),
  issued_on: z.string(),
  due_on: z.string().nullable(),
  version: z.number().int(),
  final_after: z.string().nullable().describe('last day a bank debit that paid it may still be returned (ACH return window, by SEC code)'),
  final: z.boolean().describe('paid, and no payment on it can still come back'),
});

export const paymentSummary = z.object({
  id: z.string().uuid(),
  client_id: z.string().uuid(),
  state: z.string(),
  source: z.string(),
  currency: z.string(),
  amount_minor: minor,
  fee_minor: minor.nullable(),
  processor_payment_id: z.string().nullable(),
  method: z.string().nullable(),
  created_at: z.string(),
  allocations: z.array(z.object({ invoice_id: z.string().uuid(), amount_minor: minor })),
  postings: z.array(
    z.object({ target: z.string(), vendor: z.string(), status: z.string(), remote_id: z.string().nullable(), last_error: z.string().nullable() }),
  ),
});

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  // Bounded: 1e20 is an integer to zod but not to PostgreSQL's OFFSET (it answered 500).
  offset: z.coerce.number().int().min(0).max(1_000_000_000, 'offset is at most 1000000000').default(0),
});
