// The bank-account page's script (served from /assets; views/bank-account.eta): send the authorization as
// JSON (the portal's POSTs are JSON only, csrf.ts) and say what happened under the button.
(function () {
  var form = document.getElementById('bank-form');
  if (!form) return;
  form.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var f = new FormData(ev.target);
    var body = Object.fromEntries(f.entries());
    body.agree = f.get('agree') === 'on';
    var r = await fetch(location.pathname, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    var out = await r.json();
    document.getElementById('message').textContent = r.ok ? 'Authorized: account ending ' + out.last4 : out.error.message;
  });
})();
