// One error shape for the API: { error: { code, message } }, where the message says what was wrong and
// what to do. Use-case errors map to 4xx; anything unexpected is a 500 with no internals leaked.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { UseCaseError } from '../engine/context.ts';
import { MoneyError } from '../domain/money.ts';

export const STATUS: Record<UseCaseError['code'], number> = { not_found: 404, invalid: 422, conflict: 409, not_configured: 409, expired: 410 };

export function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const details = err.validation.map((v) => `${v.instancePath || v.params?.issue?.path?.join('.') || 'body'}: ${v.message}`);
    void reply.code(400).send({ error: { code: 'invalid_request', message: `the request is not valid: ${details.join('; ')}` } });
    return;
  }
  if (err instanceof UseCaseError) {
    void reply.code(STATUS[err.code]).send({ error: { code: err.code, message: err.message } });
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
  req.log.error({ err }, 'unhandled error');
  void reply.code(500).send({ error: { code: 'internal', message: 'something went wrong on our side; the error has been logged' } });
}
