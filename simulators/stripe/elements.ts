// A stand-in for Stripe.js and the Payment Element (the "hosted fields"): card numbers and bank
// accounts are typed into a page served by the simulator, inside an iframe, and the simulator
// confirms the intent itself, so card data never reaches the page that embeds it (or Settle).
// The API is a small subset of Stripe.js v3: Stripe(pk).elements({clientSecret}).create('payment')
// .mount(el); stripe.confirmPayment({elements, confirmParams:{return_url}, redirect}) and
// stripe.confirmSetup(...) resolve to {paymentIntent} / {setupIntent} or {error}. Deferred mode, as in
// Stripe's "finalize payments on the server": Stripe(pk).elements({mode:'payment', amount, currency,
// paymentMethodTypes, paymentMethodCreation:'manual'}), then elements.submit() and
// stripe.createPaymentMethod({elements, params}) resolve to {paymentMethod} or {error}; the server reads
// the method (card.funding, card.brand) and creates and confirms the PaymentIntent itself.
import type { FastifyInstance } from 'fastify';
import { StripeApiError } from './errors.ts';
import { z } from 'zod';
import { parseForm, type FormObject } from './form.ts';
import { createBankMethod, createCardMethod } from './methods.ts';
import type { PaymentIntent, PaymentMethod, SetupIntent } from './objects.ts';
import { confirmPaymentIntent, confirmSetupIntent, type AchScheduler } from './payments.ts';
import { randomToken, type StripeStore } from './store.ts';
import { bankForNumber, cardForNumber, TEST_ROUTING_NUMBER } from './test-methods.ts';

const STRIPE_JS = String.raw`(function () {
  var script = document.currentScript;
  var origin = script ? new URL(script.src).origin : window.location.origin;
  function frameRequest(frame, message) {
    return new Promise(function (resolve) {
      var id = 'm' + Math.random().toString(36).slice(2);
      function onMessage(ev) {
        if (ev.origin !== origin || !ev.data || ev.data.settleStripe !== 'result' || ev.data.id !== id) return;
        window.removeEventListener('message', onMessage);
        resolve(ev.data.result);
      }
      window.addEventListener('message', onMessage);
      message.id = id;
      frame.contentWindow.postMessage(message, origin);
    });
  }
  function finish(result, args, kind) {
    var intent = result[kind];
    var redirect = args.redirect || 'always';
    var returnUrl = args.confirmParams && args.confirmParams.return_url;
    if (intent && !result.error && returnUrl && redirect !== 'if_required') {
      var u = new URL(returnUrl, window.location.href);
      var prefix = kind === 'paymentIntent' ? 'payment_intent' : 'setup_intent';
      u.searchParams.set(prefix, intent.id);
      u.searchParams.set(prefix + '_client_secret', intent.client_secret);
      u.searchParams.set('redirect_status', intent.status === 'succeeded' || intent.status === 'processing' ? 'succeeded' : 'failed');
      window.location.assign(u.toString());
    }
    return result;
  }
  function Stripe(publishableKey) {
    if (!/^pk_/.test(publishableKey || '')) throw new Error('Stripe(): a publishable key (pk_...) is required');
    function confirm(args, kind) {
      var frame = args && args.elements && args.elements._frame();
      if (!frame) return Promise.resolve({ error: { type: 'validation_error', message: 'Mount the payment element before confirming.' } });
      var billing = args.confirmParams && args.confirmParams.payment_method_data && args.confirmParams.payment_method_data.billing_details;
      return frameRequest(frame, { settleStripe: 'confirm', billing: billing || null }).then(function (r) { return finish(r, args, kind); });
    }
    return {
      elements: function (options) {
        options = options || {};
        var clientSecret = options.clientSecret;
        if (!clientSecret && options.mode !== 'payment' && options.mode !== 'setup') throw new Error('elements(): pass a clientSecret, or a mode (payment or setup) for a deferred intent');
        var frame = null, submitted = false;
        var query = clientSecret
          ? 'client_secret=' + encodeURIComponent(clientSecret)
          : 'mode=' + encodeURIComponent(options.mode) + '&amount=' + encodeURIComponent(options.amount || 0) + '&currency=' + encodeURIComponent(options.currency || 'usd') +
            '&payment_method_types=' + encodeURIComponent((options.paymentMethodTypes || ['card']).join(','));
        return {
          _frame: function () { return frame; },
          _submitted: function () { return submitted; },
          submit: function () {
            if (!frame) return Promise.resolve({ error: { type: 'validation_error', message: 'Mount the payment element before submitting.' } });
            return frameRequest(frame, { settleStripe: 'submit' }).then(function (r) { submitted = !r.error; return r; });
          },
          create: function (type) {
            return {
              mount: function (target) {
                var host = typeof target === 'string' ? document.querySelector(target) : target;
                frame = document.createElement('iframe');
                frame.src = origin + '/_sim/elements?' + query + '&pk=' + encodeURIComponent(publishableKey) + '&element=' + encodeURIComponent(type || 'payment');
                frame.title = 'Secure payment input frame';
                frame.name = 'stripe-sim-elements';
                frame.style.cssText = 'border:0;width:100%;height:330px';
                host.appendChild(frame);
              },
              unmount: function () { if (frame && frame.parentNode) frame.parentNode.removeChild(frame); frame = null; },
              on: function () {},
            };
          },
        };
      },
      createPaymentMethod: function (args) {
        var frame = args && args.elements && args.elements._frame();
        if (!frame) return Promise.resolve({ error: { type: 'validation_error', message: 'Mount the payment element before creating a payment method.' } });
        // Stripe.js requires elements.submit() first (it validates the fields and collects wallet data).
        if (!args.elements._submitted()) return Promise.resolve({ error: { type: 'integration_error', message: 'elements.submit() must be called before stripe.createPaymentMethod().' } });
        var billing = args.params && args.params.billing_details;
        return frameRequest(frame, { settleStripe: 'create_payment_method', billing: billing || null });
      },
      confirmPayment: function (args) { return confirm(args, 'paymentIntent'); },
      confirmSetup: function (args) { return confirm(args, 'setupIntent'); },
      retrievePaymentIntent: function (clientSecret) {
        var id = String(clientSecret).split('_secret_')[0];
        return fetch(origin + '/v1/payment_intents/' + id + '?client_secret=' + encodeURIComponent(clientSecret), { headers: { Authorization: 'Bearer ' + publishableKey } })
          .then(function (r) { return r.json(); })
          .then(function (b) { return b.error ? { error: b.error } : { paymentIntent: b }; });
      },
    };
  }
  window.Stripe = Stripe;
})();
`;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What the frame shows: an existing intent, or the amount and types of a deferred one (no intent yet). */
type FrameSubject =
  | PaymentIntent
  | SetupIntent
  | {
      readonly object: 'deferred';
      readonly id: string;
      readonly client_secret: null;
      readonly payment_method_types: string[];
      readonly mode: string;
      readonly amount: number;
      readonly currency: string;
    };

function page(intent: FrameSubject, pk: string): string {
  const types = intent.payment_method_types;
  const amount =
    intent.object === 'payment_intent'
      ? `${(intent.amount / 100).toFixed(2)} ${intent.currency.toUpperCase()}`
      : intent.object === 'deferred' && intent.mode === 'payment'
        ? `${(intent.amount / 100).toFixed(2)} ${intent.currency.toUpperCase()}`
        : 'Save payment details';
  const card = types.includes('card')
    ? `<fieldset data-method="card"><legend><label><input type="radio" name="method" value="card" checked> Card</label></legend>
  <label>Card number <input name="cardnumber" autocomplete="off" inputmode="numeric" placeholder="4242 4242 4242 4242" data-testid="card-number"></label>
  <label>Expiry (MM / YY) <input name="exp" placeholder="12 / 34" data-testid="card-expiry"></label>
  <label>CVC <input name="cvc" placeholder="123" data-testid="card-cvc"></label></fieldset>`
    : '';
  const bank = types.includes('us_bank_account')
    ? `<fieldset data-method="us_bank_account"><legend><label><input type="radio" name="method" value="us_bank_account" ${types.includes('card') ? '' : 'checked'}> US bank account (ACH)</label></legend>
  <label>Account holder name <input name="holder" data-testid="bank-holder"></label>
  <label>Routing number <input name="routing" value="${TEST_ROUTING_NUMBER}" data-testid="bank-routing"></label>
  <label>Account number <input name="account" placeholder="000123456789" data-testid="bank-account"></label>
  <label>Account type <select name="account_type"><option>checking</option><option>savings</option></select></label>
  <label><input type="checkbox" name="manual" data-testid="bank-manual"> My bank is not listed: verify with two small deposits (1–2 business days) instead of signing in to my bank</label>
  <label><input type="checkbox" name="mandate" data-testid="bank-mandate"> I authorise this merchant to debit my account for this payment and, where saved, for future payments.</label></fieldset>`
    : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>Stripe (simulated) payment element</title>
<style>body{font:14px system-ui,sans-serif;margin:8px}fieldset{border:1px solid #ccd;border-radius:6px;margin:0 0 8px}label{display:block;margin:4px 0}input{padding:4px}#msg{color:#b00}</style></head>
<body><form id="f" data-intent="${esc(intent.id)}"><div>${esc(amount)}</div>${card}${bank}
<div id="msg" role="alert"></div><button type="submit" data-testid="sim-pay">Pay (without Stripe.js)</button></form>
<script>
// Embedded by Stripe.js (the page's own Pay button confirms through postMessage): hide the stand-alone button,
// as Stripe's Payment Element has none.
if (window.parent !== window) document.querySelector('[data-testid=sim-pay]').hidden = true;
var clientSecret = ${JSON.stringify(intent.client_secret)}, pk = ${JSON.stringify(pk)};
function val(n){var e=document.querySelector('[name="'+n+'"]');return e?e.value:'';}
function collect(billing){
  var m=document.querySelector('input[name=method]:checked');var method=m?m.value:'card';
  var exp=val('exp').split('/').map(function(s){return s.trim();});
  var mandate=document.querySelector('[name=mandate]');var manual=document.querySelector('[name=manual]');
  return {client_secret:clientSecret,pk:pk,method:method,card:{number:val('cardnumber'),exp_month:exp[0]||'',exp_year:exp[1]||'',cvc:val('cvc')},
    bank:{holder:val('holder')||(billing&&billing.name)||'',routing:val('routing'),account:val('account'),account_type:val('account_type')},
    billing:billing||null,mandate_accepted:!!(mandate&&mandate.checked),manual_entry:!!(manual&&manual.checked),user_agent:navigator.userAgent};
}
function submit(billing){
  return fetch('/_sim/elements/confirm',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(collect(billing))})
    .then(function(r){return r.json();}).then(function(res){document.getElementById('msg').textContent=res.error?res.error.message:'';return res;});
}
function createMethod(billing){
  return fetch('/_sim/elements/payment-method',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(collect(billing))})
    .then(function(r){return r.json();}).then(function(res){document.getElementById('msg').textContent=res.error?res.error.message:'';return res;});
}
window.addEventListener('message',function(ev){
  if(!ev.data)return;
  var reply=function(res){ev.source.postMessage({settleStripe:'result',id:ev.data.id,result:res},ev.origin);};
  if(ev.data.settleStripe==='confirm')submit(ev.data.billing).then(reply);
  else if(ev.data.settleStripe==='submit')reply({});
  else if(ev.data.settleStripe==='create_payment_method')createMethod(ev.data.billing).then(reply);
});
document.getElementById('f').addEventListener('submit',function(e){e.preventDefault();submit(null).then(function(res){
  if(!res.error)document.getElementById('msg').textContent='Status: '+(res.paymentIntent||res.setupIntent).status;});});
</script></body></html>`;
}

/** What the hosted-fields page posts (its own JSON, not a Stripe API shape). */
const text = z.union([z.string(), z.number().transform(String)]);
const ConfirmBody = z.object({
  client_secret: z.string(),
  pk: z.string(),
  method: z.enum(['card', 'us_bank_account']).default('card'),
  card: z.object({ number: text.optional(), exp_month: text.optional(), exp_year: text.optional(), cvc: text.optional() }).optional(),
  bank: z.object({ holder: z.string().optional(), routing: text.optional(), account: text.optional(), account_type: z.string().optional() }).optional(),
  billing: z.object({ name: z.string().nullish(), email: z.string().nullish() }).nullish(),
  mandate_accepted: z.union([z.boolean(), z.literal('true').transform(() => true), z.literal('false').transform(() => false)]).optional(),
  /** Bank details typed rather than linked by signing in to the bank (Financial Connections): microdeposits. */
  manual_entry: z.union([z.boolean(), z.literal('true').transform(() => true), z.literal('false').transform(() => false)]).optional(),
  user_agent: z.string().optional(),
});

function findIntent(store: StripeStore, clientSecret: string): PaymentIntent | SetupIntent | null {
  const id = clientSecret.split('_secret_')[0] ?? '';
  const intent = id.startsWith('seti_') ? store.setupIntents.get(id) : store.paymentIntents.get(id);
  return intent && intent.client_secret === clientSecret ? intent : null;
}

/** createPaymentMethod posts the same fields; a deferred frame has no intent, so no client secret. */
const MethodBody = ConfirmBody.extend({ client_secret: z.string().nullish() });
type ConfirmFields = z.infer<typeof MethodBody>;
type Validation = { error: { type: 'validation_error'; message: string } };
const validation = (message: string): Validation => ({ error: { type: 'validation_error', message } });

/** The payment method the fields describe, created as Stripe.js would (test numbers only), or why not. */
function methodFromFields(store: StripeStore, b: ConfirmFields, opts: { requireMandate: boolean }): { pm: PaymentMethod } | Validation {
  const billing = { name: b.billing?.name ?? null, email: b.billing?.email ?? null };
  if (b.method === 'us_bank_account') {
    const account = bankForNumber(b.bank?.account ?? '');
    if (b.bank?.routing !== TEST_ROUTING_NUMBER || !account)
      return validation('Use a Stripe test bank account (routing 110000000, e.g. account 000123456789).');
    const holder = b.bank.holder ?? '';
    if (!holder) return validation("Enter the account holder's name.");
    if (opts.requireMandate && !b.mandate_accepted) return validation('Accept the debit authorisation to continue.');
    const pm = createBankMethod(store, account, {
      accountType: b.bank.account_type === 'savings' ? 'savings' : 'checking',
      billing: { name: holder, email: billing.email },
    });
    // Without manual entry the account counts as linked through Financial Connections (verified at once).
    if (b.manual_entry) store.unverifiedBanks.add(pm.id);
    return { pm };
  }
  const card = cardForNumber(b.card?.number ?? '');
  if (!card) return validation('Your card number is invalid. Use a Stripe test card, e.g. 4242 4242 4242 4242.');
  const month = Number(b.card?.exp_month);
  const yy = Number(b.card?.exp_year);
  const year = yy < 100 ? 2000 + yy : yy;
  if (!Number.isInteger(month) || month < 1 || month > 12 || !Number.isInteger(year) || year < new Date().getUTCFullYear())
    return validation("Your card's expiration date is incomplete or in the past.");
  if (!/^\d{3,4}$/.test(b.card?.cvc ?? '')) return validation("Your card's security code is incomplete.");
  return { pm: createCardMethod(store, card, { expMonth: month, expYear: year, billing }) };
}

export function registerElements(app: FastifyInstance, store: StripeStore, publishableKey: string, ach: AchScheduler): void {
  app.get('/_sim/js/v3', async (_req, reply) => reply.type('application/javascript; charset=utf-8').send(STRIPE_JS));

  app.get('/_sim/elements', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    if (q['pk'] !== publishableKey) return reply.code(401).type('text/plain').send('Invalid publishable key');
    if (q['mode'] !== undefined && q['client_secret'] === undefined) {
      const amount = Number(q['amount'] ?? 0);
      const types = (q['payment_method_types'] ?? 'card').split(',').filter((t) => t === 'card' || t === 'us_bank_account');
      if (!['payment', 'setup'].includes(q['mode']) || !Number.isSafeInteger(amount) || amount < 0 || types.length === 0) {
        return reply.code(400).type('text/plain').send('Deferred elements need mode (payment|setup), a whole amount and card and/or us_bank_account');
      }
      const currency = (q['currency'] ?? 'usd').toLowerCase();
      return reply
        .type('text/html; charset=utf-8')
        .send(
          page({ object: 'deferred', id: 'deferred', client_secret: null, payment_method_types: types, mode: q['mode'], amount, currency }, publishableKey),
        );
    }
    const intent = findIntent(store, q['client_secret'] ?? '');
    if (!intent) return reply.code(404).type('text/plain').send('No such intent for this client_secret');
    return reply.type('text/html; charset=utf-8').send(page(intent, publishableKey));
  });

  // stripe.createPaymentMethod({elements}): the method is created from the fields; no intent is touched.
  app.post('/_sim/elements/payment-method', async (req, reply) => {
    const parsed = MethodBody.safeParse(typeof req.body === 'string' ? parseForm(req.body) : req.body);
    if (!parsed.success)
      return reply
        .code(400)
        .send({ error: { type: 'invalid_request_error', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
    if (parsed.data.pk !== publishableKey) return reply.code(401).send({ error: { type: 'invalid_request_error', message: 'Invalid publishable key' } });
    const made = methodFromFields(store, parsed.data, { requireMandate: false });
    if ('error' in made) return made;
    return { paymentMethod: made.pm };
  });

  app.post('/_sim/elements/confirm', async (req, reply) => {
    const parsed = ConfirmBody.safeParse(typeof req.body === 'string' ? parseForm(req.body) : req.body);
    if (!parsed.success)
      return reply
        .code(400)
        .send({ error: { type: 'invalid_request_error', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
    const b = parsed.data;
    if (b.pk !== publishableKey) return reply.code(401).send({ error: { type: 'invalid_request_error', message: 'Invalid publishable key' } });
    const intent = findIntent(store, b.client_secret);
    if (!intent) return reply.code(404).send({ error: { type: 'invalid_request_error', message: 'No such intent for this client_secret' } });
    const made = methodFromFields(store, b, { requireMandate: true });
    if ('error' in made) return made;
    const pm = made.pm;
    const mandateData: FormObject | undefined =
      b.method === 'us_bank_account'
        ? { customer_acceptance: { type: 'online', online: { ip_address: req.ip, user_agent: b.user_agent ?? 'unknown' } } }
        : undefined;
    const cause = { requestId: `req_${randomToken(14)}`, idempotencyKey: null };
    try {
      if (intent.object === 'payment_intent') {
        confirmPaymentIntent(store, intent, pm, { offSession: false, mandateData, mandateId: undefined }, cause, ach);
        return { paymentIntent: intent };
      }
      confirmSetupIntent(store, intent, pm, mandateData, cause);
      return { setupIntent: intent };
    } catch (e) {
      if (e instanceof StripeApiError) return { error: { ...e.body } };
      throw e;
    }
  });
}
