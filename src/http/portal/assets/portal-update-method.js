// The update-method page's progressive enhancement (served from /assets; views/update-method.eta): open a
// setup session, mount the processor's hosted fields, confirm, then tell Settle.
(function () {
  // The publishable key comes from the view as an escaped data-* attribute (no inline script: CSP).
  var root = document.getElementById('update-method');
  var stripe = window.Stripe ? window.Stripe(root.getAttribute('data-publishable-key')) : null;
  var elements = null, setupId = null, base = location.pathname;
  var msg = function (t) { document.getElementById('message').textContent = t; };
  document.getElementById('continue').addEventListener('click', async function () {
    this.disabled = true;
    var res = await fetch(base + '/start', { method: 'POST' });
    var body = await res.json();
    document.getElementById('setup').hidden = false;
    if (!res.ok) { msg(body.error.message); return; }
    setupId = body.setup_id;
    elements = stripe.elements({ clientSecret: body.client_secret });
    elements.create('payment').mount('#payment-element');
  });
  document.getElementById('save').addEventListener('click', async function () {
    var btn = this; btn.disabled = true;
    var r = await stripe.confirmSetup({ elements: elements, redirect: 'if_required', confirmParams: { return_url: location.href } });
    if (r.error) { msg(r.error.message); btn.disabled = false; return; }
    // A bank account typed by its numbers is saved only once the client confirms two microdeposits (Stripe).
    var nx = r.setupIntent && r.setupIntent.status === 'requires_action' && r.setupIntent.next_action;
    if (nx && nx.type === 'verify_with_microdeposits') {
      msg('We sent two small deposits to this bank account (they arrive in 1–2 business days). Confirm their amounts on the verification page; the account is saved once they are confirmed. ');
      var a = document.createElement('a'); a.href = nx.verify_with_microdeposits.hosted_verification_url; a.target = '_blank'; a.rel = 'noopener';
      a.id = 'verify-link'; a.textContent = 'Verify your bank account'; document.getElementById('message').appendChild(a);
      return;
    }
    var res = await fetch(base + '/complete', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setup_id: setupId }) });
    var body = await res.json();
    if (!res.ok) { msg(body.error.message); btn.disabled = false; return; }
    document.getElementById('setup').hidden = true;
    document.getElementById('done').hidden = false;
    document.getElementById('done-text').textContent = 'Your ' + body.payment_method.label + ' is saved' + (body.retries_scheduled ? ' and we are collecting the open payment with it now.' : '.');
  });
})();
