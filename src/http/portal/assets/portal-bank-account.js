// The bank-account page's script (served from /assets; views/bank-account.eta): send the authorization and
// the payment as JSON (the portal's POSTs are JSON only, csrf.ts) and say what happened under the button.
(function () {
  async function post(url, body) {
    var r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { ok: r.ok, body: await r.json() };
  }
  var form = document.getElementById('bank-form');
  if (form)
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var f = new FormData(ev.target);
      var body = Object.fromEntries(f.entries());
      body.agree = f.get('agree') === 'on';
      var r = await post(location.pathname, body);
      if (r.ok) {
        // The page again, now listing the account with the payment form.
        location.assign(location.pathname + '?authorized=' + encodeURIComponent(r.body.last4));
        return;
      }
      document.getElementById('message').textContent = r.body.error.message;
    });
  var pay = document.getElementById('pay-bank-form');
  if (pay)
    pay.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var button = document.getElementById('pay-bank');
      button.disabled = true;
      var out = document.getElementById('pay-message');
      var invoices = JSON.parse(pay.getAttribute('data-invoices'));
      var r = await post(location.pathname.replace(/\/bank-account$/, '/pay-by-bank'), { bank_account_id: pay.elements.bank_account_id.value, invoices: invoices });
      if (r.ok) {
        out.textContent = 'Thank you. Your payment of ' + r.body.amount + ' is on its way; the debit reaches your account in 1–2 business days.';
        out.id = 'pay-done';
        return;
      }
      out.textContent = r.body.error.message;
      button.disabled = false;
    });
})();
