// Stripe's hosted microdeposit verification page (the `hosted_verification_url` of a
// verify_with_microdeposits next action; at Stripe it lives on payments.stripe.com). The customer types the
// two amounts seen on their bank statement; the intent then debits (or saves) the account. In test mode
// the amounts are always 32 and 45 cents. Not a /v1 route: it is a page, as at Stripe.
import type { FastifyInstance } from 'fastify';
import { StripeApiError } from './errors.ts';
import { parseForm } from './form.ts';
import type { PaymentIntent, SetupIntent } from './objects.ts';
import { verifyMicrodeposits, type AchScheduler } from './payments.ts';
import { AUTOMATIC, type StripeStore } from './store.ts';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`;
}

export function registerMicrodepositPage(app: FastifyInstance, store: StripeStore, ach: AchScheduler): void {
  const find = (id: string, secret: string | undefined): PaymentIntent | SetupIntent | null => {
    const intent = store.paymentIntents.get(id) ?? store.setupIntents.get(id) ?? null;
    return intent && secret !== undefined && intent.client_secret === secret ? intent : null;
  };
  const form = (intent: PaymentIntent | SetupIntent, secret: string, error: string | null): string =>
    page(
      'Verify your bank account',
      `<p>Two small deposits were sent to your bank account. Enter their amounts in cents as they appear on your statement.</p>` +
        (error ? `<p role="alert" data-testid="md-error">${esc(error)}</p>` : '') +
        `<form method="post" action="/_sim/microdeposit/${esc(intent.id)}?client_secret=${encodeURIComponent(secret)}">` +
        `<label>First amount <input name="amount1" inputmode="numeric" data-testid="md-amount-1"></label> ` +
        `<label>Second amount <input name="amount2" inputmode="numeric" data-testid="md-amount-2"></label> ` +
        `<button type="submit" data-testid="md-verify">Verify</button></form>`,
    );

  app.get('/_sim/microdeposit/:intent', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const intent = find((req.params as { intent: string }).intent, q['client_secret']);
    if (!intent) return reply.code(404).type('text/html').send(page('Link not valid', '<p>This verification link is not valid.</p>'));
    if (intent.next_action?.['type'] !== 'verify_with_microdeposits') {
      return reply
        .type('text/html')
        .send(page('Nothing to verify', `<p data-testid="md-done">This bank account needs no verification (${esc(intent.status)}).</p>`));
    }
    return reply.type('text/html').send(form(intent, q['client_secret'] ?? '', null));
  });

  app.post('/_sim/microdeposit/:intent', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const intent = find((req.params as { intent: string }).intent, q['client_secret']);
    if (!intent) return reply.code(404).type('text/html').send(page('Link not valid', '<p>This verification link is not valid.</p>'));
    const body = typeof req.body === 'string' ? parseForm(req.body) : ((req.body ?? {}) as Record<string, unknown>);
    const amounts = [body['amount1'], body['amount2']].map((v) => Number(v));
    try {
      verifyMicrodeposits(store, intent, { amounts }, AUTOMATIC, ach);
      return reply
        .type('text/html')
        .send(page('Bank account verified', `<p data-testid="md-done">Thank you: your bank account is verified (${esc(intent.status)}).</p>`));
    } catch (e) {
      if (!(e instanceof StripeApiError)) throw e;
      return reply
        .code(e.status)
        .type('text/html')
        .send(form(intent, q['client_secret'] ?? '', e.body.message));
    }
  });
}
