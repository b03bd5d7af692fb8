// Input no field of Settle accepts is refused at the door with a 400 that says what was wrong (issue #8
// item 8), instead of reaching PostgreSQL and coming back as a 500 with a stack in the log:
// - a NUL character anywhere in the URL (path or query) or in a string of a JSON or form body: PostgreSQL
//   text cannot hold it (22021), and no name, note or id legitimately contains one;
// - errors.ts maps the data errors PostgreSQL still raises for a value it cannot take (invalid text
//   representation, out of range, bad encoding) to 400 as a last line, logged at warn.
// Vendor webhooks are left alone here: their bodies stay bytes until the signature is checked, and
// connectors/storable-text.ts makes what they carry storable.
import type { FastifyInstance, FastifyReply } from 'fastify';

const NUL_IN_URL = /%00|\u0000/i;

function containsNul(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (depth > 32 || v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return false;
  if (Array.isArray(v)) return v.some((x) => containsNul(x, depth + 1));
  return Object.entries(v as Record<string, unknown>).some(([k, x]) => k.includes('\u0000') || containsNul(x, depth + 1));
}

function refuse(reply: FastifyReply, where: string): FastifyReply {
  return reply.code(400).send({
    error: { code: 'invalid_request', message: `the ${where} contains a NUL character (\\u0000 or %00), which no field accepts; remove it and send again` },
  });
}

export function registerBadInputGuards(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (NUL_IN_URL.test(req.url)) return refuse(reply, 'URL');
  });
  app.addHook('preValidation', async (req, reply) => {
    if (containsNul(req.body)) return refuse(reply, 'request body');
  });
}

/**
 * PostgreSQL data exceptions that only a value from the request can cause in a handler that passed
 * validation: answered 400 (errors.ts), never 500. 22P02 invalid text representation (a malformed uuid),
 * 22021 bad encoding / NUL, 22003 numeric out of range, 22008 datetime overflow, 22007 bad datetime,
 * 2201W / 2201X a LIMIT / OFFSET PostgreSQL refuses, 22001 a string too long for its column.
 */
export const REQUEST_DATA_ERRORS = new Set(['22P02', '22021', '22003', '22008', '22007', '2201W', '2201X', '22001']);
