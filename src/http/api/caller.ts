import type { FastifyRequest } from 'fastify';
import type { Caller } from '../auth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw new Error('route registered without authentication');
  return req.caller;
}
