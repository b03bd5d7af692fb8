// The pay-in-parts page (views/installment-offer.eta; served from /assets): each offer's form is sent as
// JSON (every portal POST is JSON: http/csrf.ts), the button disabled while it is on its way; the answer
// either names the plan's page (followed) or lists what is wrong (shown in the error summary, focused).
(function () {
  var summary = document.getElementById('error-summary');
  var list = document.getElementById('error-list');
  function show(errors) {
    list.textContent = '';
    errors.forEach(function (e) {
      var li = document.createElement('li');
      if (e.field && document.getElementById(e.field)) {
        var a = document.createElement('a');
        a.href = '#' + e.field;
        a.textContent = e.message;
        li.appendChild(a);
      } else li.textContent = e.message;
      list.appendChild(li);
    });
    summary.hidden = false;
    summary.focus();
  }
  Array.prototype.forEach.call(document.querySelectorAll('form.offer-form'), function (form) {
    form.addEventListener('submit', async function (ev) {
      ev.preventDefault();
      var button = form.querySelector('button[type=submit]');
      var body = {};
      new FormData(form).forEach(function (v, k) {
        body[k] = String(v);
      });
      button.disabled = true;
      try {
        var res = await fetch(form.getAttribute('action'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        var answer = await res.json();
        if (res.ok && answer.location) {
          location.assign(answer.location);
          return;
        }
        show(answer.errors || [{ message: 'Something went wrong; please try again.' }]);
      } catch (e) {
        show([{ message: 'Your plan could not be sent (no connection?); please try again.' }]);
      }
      button.disabled = false;
    });
  });
})();
