// One error shape for the API: { error: { code, message } }, where the message says what was wrong and
// what to do. Use-case errors map to 4xx; anything unexpected is a 500 with no internals leaked.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { UseCaseError } from '../engine/context.ts';
import { MoneyError } from '../domain/money.ts';
import { REQUEST_DATA_ERRORS } from './bad-input.ts';

export const STATUS: Record<UseCaseError['code'], number> = { not_found: 404, invalid: 422, conflict: 409, not_configured: 409, expired: 410 };

export function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const details = err.validation.map((v) => `${v.instancePath || v.params?.issue?.path?.join('.') || 'body'}: ${v.message}`);
    void reply.code(400).send({ error: { code: 'invalid_request', message: `the request is not valid: ${details.join('; ')}` } });
    return;
  }
  if (err instanceof UseCaseError) {
    void reply.code(STATUS[err.code]).send({ error: { code: err.code, message: err.message, ...err.detail } });
    return;
  }
  if (err instanceof MoneyError) {
    void reply.code(422).send({ error: { code: 'invalid_amount', message: err.message } });
    return;
  }
  const code = (err as FastifyError).code;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    void reply.code(400).send({
      error: { code: 'invalid_json', message: `the request body is not valid JSON (${err.message}); send a JSON object with content-type application/json` },
    });
    return;
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    void reply.code(415).send({ error: { code: 'unsupported_media_type', message: 'send the request body as application/json' } });
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) {
    void reply.code(status).send({ error: { code: (err as FastifyError).code ?? 'bad_request', message: err.message } });
    return;
  }
  if (isDatabaseUnavailable(err)) {
    // During a database outage: 503 with Retry-After, so vendors retry their webhooks and clients their calls.
    req.log.warn({ err: err.message }, 'database unavailable');
    void reply
      .code(503)
      .header('retry-after', '30')
      .send({ error: { code: 'unavailable', message: 'the database is unavailable right now; retry shortly' } });
    return;
  }
  const pgCode = (err as { code?: unknown }).code;
  if (typeof pgCode === 'string' && REQUEST_DATA_ERRORS.has(pgCode)) {
    // A value from the request that PostgreSQL cannot take (http/bad-input.ts): the caller's to fix.
    req.log.warn({ code: pgCode, err: err.message, route: req.routeOptions.url }, 'request value refused by the database');
    void reply.code(400).send({ error: { code: 'invalid_request', message: `a value in the request is not valid: ${err.message}` } });
    return;
  }
  req.log.error({ err }, 'unhandled error');
  void reply.code(500).send({ error: { code: 'internal', message: 'something went wrong on our side; the error has been logged' } });
}

// The server shutting down or starting (57P01–57P03), connection exceptions (08…), and a refused or dropped
// connection when it is the database driver's (a vendor's refused connection is not a database outage).
const SERVER_CODES = new Set(['57P01', '57P02', '57P03']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);
function isDatabaseUnavailable(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (SERVER_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  const fromDriver = /node_modules[\\/](pg|pg-pool|pg-protocol)[\\/]/.test(err.stack ?? '');
  if (fromDriver && typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return fromDriver && /Connection terminated|timeout exceeded when trying to connect/i.test(err.message);
}
