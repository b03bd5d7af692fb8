// The portal page's progressive enhancement (served from /assets; views/invoices.eta). The client picks
// invoices and how much of each to pay, then:
// - bank account, or card when the MSP does not surcharge: Settle opens the payment and the processor's
//   hosted fields confirm it (the client secret flow);
// - card when the MSP surcharges: the hosted fields only create the payment method (deferred mode), Settle
//   reads its funding, quotes the surcharge and shows the disclosure and total, and only when the client
//   presses "Pay <total>" does Settle charge exactly that total with that card (payments-rules.md §0.2).
// Amounts go to Settle as the client typed them; Settle parses them (no float arithmetic on money here).
(function () {
  // A page the browser kept from before paying (Back) would offer paid invoices again: show the current one.
  window.addEventListener('pageshow', function (ev) { if (ev.persisted) location.reload(); });
  var form = document.getElementById('pay-form'); if (!form) return;
  // What the server knows, written by the view as escaped data-* attributes (no inline script: CSP).
  var config = document.getElementById('invoices');
  var stripe = window.Stripe ? window.Stripe(config.getAttribute('data-publishable-key')) : null;
  var surcharging = config.getAttribute('data-surcharging') === 'true', currency = config.getAttribute('data-currency');
  var elements = null, paymentId = null, mode = null, quote = null;
  var msg = function (t) { document.getElementById('message').textContent = t || ''; };
  function chosen() {
    return Array.from(form.querySelectorAll('input[name=invoice]:checked')).map(function (box) {
      var amount = form.querySelector('input[name=amount][data-invoice="' + box.value + '"]');
      return amount && amount.value.trim() !== '' ? { invoice_id: box.value, amount: amount.value.trim() } : { invoice_id: box.value };
    });
  }
  // Whole cents from the typed text, by string parsing (only to size the hosted fields' display amount).
  function cents(text) {
    var m = /^\$?(\d+)(?:\.(\d{1,2}))?$/.exec(String(text).replace(/,/g, '').trim());
    return m ? Number(m[1]) * 100 + Number(((m[2] || '') + '00').slice(0, 2)) : 0;
  }
  async function post(path, body) {
    var res = await fetch(location.pathname + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { ok: res.ok, status: res.status, body: await res.json() };
  }
  form.addEventListener('submit', async function (ev) {
    ev.preventDefault(); msg('');
    var invoices = chosen();
    var method = form.querySelector('input[name=method]:checked').value;
    if (method === 'card' && surcharging) {
      var total = invoices.reduce(function (s, i) {
        var box = form.querySelector('input[name=invoice][value="' + i.invoice_id + '"]');
        return s + (i.amount ? cents(i.amount) : Number(box.getAttribute('data-open')));
      }, 0);
      mode = 'review';
      form.hidden = true; document.getElementById('payment').hidden = false;
      document.getElementById('summary').textContent = 'Enter your card. Any card surcharge is shown before you pay.';
      document.getElementById('confirm').textContent = 'Review payment';
      elements = stripe.elements({ mode: 'payment', amount: total, currency: currency, paymentMethodTypes: ['card'], paymentMethodCreation: 'manual' });
      elements.create('payment').mount('#payment-element');
      return;
    }
    var r = await post('/pay', { invoices: invoices, method: method });
    if (!r.ok) {
      // Shown under the invoices, without a "Pay now" that has no payment behind it. A 409 means this page is
      // out of date (paid in another tab, or this is a page the browser kept from before paying).
      msg(r.status === 409 ? r.body.error.message.replace(/\.?$/, '. Reload this page to see what is still due.') : r.body.error.message);
      document.getElementById('confirm').style.display = 'none'; document.getElementById('payment').hidden = false;
      return;
    }
    document.getElementById('confirm').style.display = '';
    if (r.body.covered_by_credit) { location.href = location.pathname + '?paid=credit'; return; }
    mode = 'confirm'; paymentId = r.body.payment_id;
    document.getElementById('summary').textContent = r.body.ach_discount
      ? 'Invoices: ' + r.body.invoices_total + ' · ACH discount: −' + r.body.ach_discount + ' · Total: ' + r.body.amount
      : 'Paying ' + r.body.amount;
    form.hidden = true; document.getElementById('payment').hidden = false;
    elements = stripe.elements({ clientSecret: r.body.client_secret });
    elements.create('payment').mount('#payment-element');
  });
  document.getElementById('confirm').addEventListener('click', async function () {
    var btn = this; btn.disabled = true; msg('');
    try {
      if (mode === 'review') {
        var submitted = await elements.submit();
        if (submitted.error) { msg(submitted.error.message); return; }
        var made = await stripe.createPaymentMethod({ elements: elements });
        if (made.error) { msg(made.error.message); return; }
        var q = await post('/quote', { invoices: chosen(), payment_method: made.paymentMethod.id });
        if (!q.ok) { msg(q.body.error.message); return; }
        if (q.body.covered_by_credit) { location.href = location.pathname + '?paid=credit'; return; }
        quote = q.body; mode = 'pay';
        var lines = ['Invoices: ' + quote.amount];
        if (quote.credit_applied.length) lines.unshift('Credit applied: ' + quote.credit_applied.map(function (c) { return c.amount + ' to ' + c.invoice_number; }).join(', '));
        if (quote.surcharge_applies) lines.push('Credit card surcharge (' + quote.surcharge_rate + '): ' + quote.surcharge);
        lines.push('Total: ' + quote.total);
        document.getElementById('summary').textContent = lines.join(' · ');
        var d = document.getElementById('disclosure');
        d.textContent = quote.disclosure || (quote.ach_discount ? 'Pay by bank transfer (ACH) to save ' + quote.ach_discount + '.' : '');
        d.hidden = !d.textContent;
        btn.textContent = 'Pay ' + quote.total;
        return;
      }
      if (mode === 'pay') {
        var p = await post('/pay-card', { quote_id: quote.quote_id, accepted_total_minor: quote.total_minor });
        if (!p.ok || p.body.error) {
          // A decline ends this review: the client may enter another card and review again.
          mode = 'review'; btn.textContent = 'Review payment'; document.getElementById('disclosure').hidden = true;
          msg((p.body.error && p.body.error.message) || 'The payment did not go through.');
          return;
        }
        if (p.body.status !== 'succeeded' && p.body.status !== 'processing') {
          // e.g. the card asks for 3-D Secure, which this page cannot complete: never say "paid" for it.
          mode = 'review'; btn.textContent = 'Review payment'; document.getElementById('disclosure').hidden = true;
          msg('This card needs a confirmation from your bank that cannot be completed here. Nothing was charged; please use another card.');
          return;
        }
        location.href = location.pathname + '?paid=' + p.body.payment_id;
        return;
      }
      var r = await stripe.confirmPayment({ elements: elements, redirect: 'if_required', confirmParams: { return_url: location.href.split('?')[0] + '?paid=' + paymentId } });
      // A decline leaves this payment open at the processor: the client types another card into the same
      // form and presses Pay again (the same payment, never a second one).
      if (r.error) {
        // This payment is no longer open for confirming: it was paid (or replaced) in another tab or window.
        // The page for it says which, from Settle's own record, rather than the processor's raw message.
        if (r.error.code === 'payment_intent_unexpected_state') { location.href = location.pathname + '?paid=' + paymentId; return; }
        msg(r.error.type === 'card_error' ? r.error.message + ' Nothing was charged. Enter another card above and press "Pay now" again.' : r.error.message);
        return;
      }
      var st = r.paymentIntent && r.paymentIntent.status;
      // A bank account typed by its numbers: the payment page tells the client how to verify it (microdeposits).
      var next = r.paymentIntent && r.paymentIntent.next_action;
      if (st === 'requires_action' && next && next.type === 'verify_with_microdeposits') { location.href = location.pathname + '?paid=' + paymentId; return; }
      if (st === 'requires_action') { msg('This card needs a confirmation from your bank that cannot be completed here. Nothing was charged; please use another card.'); return; }
      if (st !== 'succeeded' && st !== 'processing') { msg('The payment was not completed. Check your card details above and press "Pay now" again.'); return; }
      location.href = location.pathname + '?paid=' + paymentId;
    } finally {
      btn.disabled = false;
    }
  });
})();
