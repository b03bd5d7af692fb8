// Xero's error answers, as the Accounting API sends them:
// - 400 ValidationException (components › responses › 400Error, schemas › Error / Element): ErrorNumber 10,
//   the failing objects echoed in Elements[] each with ValidationErrors[] {Message};
// - 400 with other exception types and no Elements (a where clause Xero cannot parse: QueryParseException,
//   ErrorNumber 16; a body that is not what the route takes: PostDataInvalidException, ErrorNumber 14);
// - 401 / 403 / 429 in the identity service's problem shape {Type, Title, Status, Detail, Instance} (docs:
//   developer.xero.com/documentation/guides/oauth2/troubleshooting) with WWW-Authenticate on 401;
// - 404 as plain text "The resource you're looking for cannot be found".
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { Rec } from './store.ts';

export function validationBody(elements: readonly Rec[]): Rec {
  return { ErrorNumber: 10, Type: 'ValidationException', Message: 'A validation exception occurred', Elements: elements };
}

/**
 * An object echoed back with its validation errors (the Element shape), with only the status properties its
 * schema has (components › schemas): HasValidationErrors on a Payment alone, StatusAttributeString on all
 * but a BankTransfer.
 */
export function withErrors(obj: Rec, messages: readonly string[], collection = 'Payments'): Rec {
  return {
    ...obj,
    ...(collection === 'Payments' ? { HasValidationErrors: true } : {}),
    ...(collection === 'BankTransfers' ? {} : { StatusAttributeString: 'ERROR' }),
    ValidationErrors: messages.map((Message) => ({ Message })),
  };
}

export function sendValidation(reply: FastifyReply, elements: readonly Rec[]): FastifyReply {
  return reply.code(400).send(validationBody(elements));
}

export function sendException(reply: FastifyReply, errorNumber: number, type: string, message: string): FastifyReply {
  return reply.code(400).send({ ErrorNumber: errorNumber, Type: type, Message: message });
}

export function problem(reply: FastifyReply, status: 401 | 403 | 429, detail: string): FastifyReply {
  const title = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Too Many Requests';
  if (status === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"');
  return reply.code(status).send({ Type: null, Title: title, Status: status, Detail: detail, Instance: randomUUID(), Extensions: {} });
}

export function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).type('text/plain').send("The resource you're looking for cannot be found");
}

/**
 * Fields a create may carry: Xero's schema for the object (components › schemas) minus read-only ones.
 * Anything else is refused — stricter than Xero, which ignores unknown JSON members; a typo in a field
 * name must fail in our tests rather than be silently dropped in production.
 */
export function unknownFields(obj: Rec, allowed: readonly string[]): string[] {
  return Object.keys(obj).filter((k) => !allowed.includes(k));
}

/** "100.00" or 100 → cents; null when it is not a number with at most two decimals. */
export function toCents(v: unknown): number | null {
  if (typeof v !== 'number' && typeof v !== 'string') return null;
  const s = String(v).trim();
  if (!/^-?\d+(\.\d{1,2})?$/.test(s)) return null;
  const [whole, frac = ''] = s.replace('-', '').split('.');
  const n = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
  return s.startsWith('-') ? -n : n;
}

/** YYYY-MM-DD (or a date-time whose day is taken), as Xero accepts it in a create. */
export function toDay(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2})(T[\d:.]+Z?)?$/.exec(v);
  if (!m || Number.isNaN(Date.parse(`${m[1]}T00:00:00Z`))) return null;
  return m[1]!;
}
