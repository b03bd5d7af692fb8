// A stand-in for Stripe.js and the Payment Element (the "hosted fields"): card numbers and bank
// accounts are typed into a page served by the simulator, inside an iframe, and the simulator
// confirms the intent itself, so card data never reaches the page that embeds it (or Settle).
// The API is a small subset of Stripe.js v3: Stripe(pk).elements({clientSecret}).create('payment')
// .mount(el); stripe.confirmPayment({elements, confirmParams:{return_url}, redirect}) and
// stripe.confirmSetup(...) resolve to {paymentIntent} / {setupIntent} or {error}.
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
        var clientSecret = options && options.clientSecret;
        var frame = null;
        return {
          _frame: function () { return frame; },
          create: function (type) {
            return {
              mount: function (target) {
                var host = typeof target === 'string' ? document.querySelector(target) : target;
                frame = document.createElement('iframe');
                frame.src = origin + '/_sim/elements?client_secret=' + encodeURIComponent(clientSecret) + '&pk=' + encodeURIComponent(publishableKey) + '&element=' + encodeURIComponent(type || 'payment');
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

function page(intent: PaymentIntent | SetupIntent, pk: string): string {
  const types = intent.payment_method_types;
  const amount = intent.object === 'payment_intent' ? `${(intent.amount / 100).toFixed(2)} ${intent.currency.toUpperCase()}` : 'Save payment details';
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
  <label><input type="checkbox" name="mandate" data-testid="bank-mandate"> I authorise this merchant to debit my account for this payment and, where saved, for future payments.</label></fieldset>`
    : '';
  return `<!doctype html><html><head><meta charset="utf-8"><title>Stripe (simulated) payment element</title>
<style>body{font:14px system-ui,sans-serif;margin:8px}fieldset{border:1px solid #ccd;border-radius:6px;margin:0 0 8px}label{display:block;margin:4px 0}input{padding:4px}#msg{color:#b00}</style></head>
<body><form id="f" data-intent="${esc(intent.id)}"><div>${esc(amount)}</div>${card}${bank}
<div id="msg" role="alert"></div><button type="submit" data-testid="sim-pay">Pay (without Stripe.js)</button></form>
<script>
var clientSecret = ${JSON.stringify(intent.client_secret)}, pk = ${JSON.stringify(pk)};
function val(n){var e=document.querySelector('[name="'+n+'"]');return e?e.value:'';}
function collect(billing){
  var m=document.querySelector('input[name=method]:checked');var method=m?m.value:'card';
  var exp=val('exp').split('/').map(function(s){return s.trim();});
  var mandate=document.querySelector('[name=mandate]');
  return {client_secret:clientSecret,pk:pk,method:method,card:{number:val('cardnumber'),exp_month:exp[0]||'',exp_year:exp[1]||'',cvc:val('cvc')},
    bank:{holder:val('holder')||(billing&&billing.name)||'',routing:val('routing'),account:val('account'),account_type:val('account_type')},
    billing:billing||null,mandate_accepted:!!(mandate&&mandate.checked),user_agent:navigator.userAgent};
}
function submit(billing){
  return fetch('/_sim/elements/confirm',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(collect(billing))})
    .then(function(r){return r.json();}).then(function(res){document.getElementById('msg').textContent=res.error?res.error.message:'';return res;});
}
window.addEventListener('message',function(ev){
  if(!ev.data||ev.data.settleStripe!=='confirm')return;
  submit(ev.data.billing).then(function(res){ev.source.postMessage({settleStripe:'result',id:ev.data.id,result:res},ev.origin);});
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
  user_agent: z.string().optional(),
});

function findIntent(store: StripeStore, clientSecret: string): PaymentIntent | SetupIntent | null {
  const id = clientSecret.split('_secret_')[0] ?? '';
  const intent = id.startsWith('seti_') ? store.setupIntents.get(id) : store.paymentIntents.get(id);
  return intent && intent.client_secret === clientSecret ? intent : null;
}

export function registerElements(app: FastifyInstance, store: StripeStore, publishableKey: string, ach: AchScheduler): void {
  app.get('/_sim/js/v3', async (_req, reply) => reply.type('application/javascript; charset=utf-8').send(STRIPE_JS));

  app.get('/_sim/elements', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    if (q['pk'] !== publishableKey) return reply.code(401).type('text/plain').send('Invalid publishable key');
    const intent = findIntent(store, q['client_secret'] ?? '');
    if (!intent) return reply.code(404).type('text/plain').send('No such intent for this client_secret');
    return reply.type('text/html; charset=utf-8').send(page(intent, publishableKey));
  });

  app.post('/_sim/elements/confirm', async (req, reply) => {
    const parsed = ConfirmBody.safeParse(typeof req.body === 'string' ? parseForm(req.body) : req.body);
    if (!parsed.success) return reply.code(400).send({ error: { type: 'invalid_request_error', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } });
    const b = parsed.data;
    if (b.pk !== publishableKey) return reply.code(401).send({ error: { type: 'invalid_request_error', message: 'Invalid publishable key' } });
    const intent = findIntent(store, b.client_secret);
    if (!intent) return reply.code(404).send({ error: { type: 'invalid_request_error', message: 'No such intent for this client_secret' } });
    const billing = { name: b.billing?.name ?? null, email: b.billing?.email ?? null };
    const validation = (message: string) => ({ error: { type: 'validation_error', message } });
    let pm: PaymentMethod;
    let mandateData: FormObject | undefined;
    if (b.method === 'us_bank_account') {
      const account = bankForNumber(b.bank?.account ?? '');
      if (b.bank?.routing !== TEST_ROUTING_NUMBER || !account) return validation('Use a Stripe test bank account (routing 110000000, e.g. account 000123456789).');
      const holder = b.bank.holder ?? '';
      if (!holder) return validation("Enter the account holder's name.");
      if (!b.mandate_accepted) return validation('Accept the debit authorisation to continue.');
      pm = createBankMethod(store, account, { accountType: b.bank.account_type === 'savings' ? 'savings' : 'checking', billing: { name: holder, email: billing.email } });
      mandateData = { customer_acceptance: { type: 'online', online: { ip_address: req.ip, user_agent: b.user_agent ?? 'unknown' } } };
    } else {
      const card = cardForNumber(b.card?.number ?? '');
      if (!card) return validation('Your card number is invalid. Use a Stripe test card, e.g. 4242 4242 4242 4242.');
      const month = Number(b.card?.exp_month);
      const yy = Number(b.card?.exp_year);
      const year = yy < 100 ? 2000 + yy : yy;
      if (!Number.isInteger(month) || month < 1 || month > 12 || !Number.isInteger(year) || year < new Date().getUTCFullYear()) return validation("Your card's expiration date is incomplete or in the past.");
      if (!/^\d{3,4}$/.test(b.card?.cvc ?? '')) return validation("Your card's security code is incomplete.");
      pm = createCardMethod(store, card, { expMonth: month, expYear: year, billing });
    }
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
