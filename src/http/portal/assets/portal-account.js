// The client's account pages (views/methods.eta, views/invoice.eta; served from /assets): every form marked
// .json-form is sent as JSON (every portal POST is JSON: http/csrf.ts) with its button disabled while on its
// way; the answer names the page to go to next (followed) or says in plain words what was wrong (shown in
// #message or the form's own .form-message). "Add a card or bank account" opens a setup session and mounts
// the processor's hosted fields; the numbers go to the processor, never to this page's server.
(function () {
  function say(form, text) {
    var out = (form && form.querySelector('.form-message')) || document.getElementById('message');
    if (out) out.textContent = text;
  }
  Array.prototype.forEach.call(document.querySelectorAll('form.json-form'), function (form) {
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var button = form.querySelector('button[type=submit]');
      var body = {};
      new FormData(form).forEach(function (v, k) {
        body[k] = String(v);
      });
      if (button) button.disabled = true;
      try {
        var res = await fetch(form.getAttribute('action'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        var answer = await res.json();
        if (res.ok && answer.location) {
          location.assign(answer.location);
          return;
        }
        say(form, res.ok ? answer.message || 'Done.' : (answer.error && answer.error.message) || 'Something went wrong; please try again.');
      } catch (e) {
        say(form, 'This could not be sent (no connection?); please try again.');
      }
      if (button) button.disabled = false;
    });
  });

  var root = document.getElementById('methods');
  var add = document.getElementById('add-method');
  if (!root || !add) return;
  var base = root.getAttribute('data-base');
  var stripe = window.Stripe ? window.Stripe(root.getAttribute('data-publishable-key')) : null;
  var elements = null,
    setupId = null;
  add.addEventListener('click', async function () {
    add.disabled = true;
    var res = await fetch(base + '/start', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    var body = await res.json();
    document.getElementById('setup').hidden = false;
    if (!res.ok) {
      say(null, body.error.message);
      return;
    }
    setupId = body.setup_id;
    elements = stripe.elements({ clientSecret: body.client_secret });
    elements.create('payment').mount('#payment-element');
  });
  document.getElementById('save-method').addEventListener('click', async function () {
    var btn = this;
    btn.disabled = true;
    var r = await stripe.confirmSetup({ elements: elements, redirect: 'if_required', confirmParams: { return_url: location.href } });
    if (r.error) {
      say(null, r.error.message);
      btn.disabled = false;
      return;
    }
    var nx = r.setupIntent && r.setupIntent.status === 'requires_action' && r.setupIntent.next_action;
    if (nx && nx.type === 'verify_with_microdeposits') {
      say(null, 'We sent two small deposits to this bank account (they arrive in 1–2 business days). It is saved once you confirm their amounts on the page we e-mail you.');
      return;
    }
    var res = await fetch(base + '/complete', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setup_id: setupId }) });
    var body = await res.json();
    if (!res.ok) {
      say(null, body.error.message);
      btn.disabled = false;
      return;
    }
    location.assign(body.location);
  });
})();
