// Server-Timing on the staff app's responses: how long Settle took from receiving the request to having the
// response ready to send (`app;dur=<ms>`), so the browser's developer tools and `npm run bench`
// (bench/staff-pages.ts) read Settle's own time, without the network or the client's parsing. Only under /app:
// those answers need a staff session anyway, and the public pages (portal, sign-in) say nothing about timing.
// A streamed body (the CSV export) is timed to its first byte: the header goes out before the rows do.
import type { FastifyInstance } from 'fastify';

export function registerServerTiming(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.url === '/app' || req.url.startsWith('/app/') || req.url.startsWith('/app?'))
      void reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`);
    return payload;
  });
}
