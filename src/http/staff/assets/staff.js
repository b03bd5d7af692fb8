// The staff app's small script (served from /assets; no inline script anywhere, per the CSP). Pages work
// without it; it adds: the Menu button on narrow screens, focus on a form's error summary, the CSRF token
// on htmx requests, and Chart.js charts drawn from <script type="application/json"> data.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') : '';
  }

  // htmx: every request it sends carries the form token in the header csrf.ts reads.
  document.addEventListener('htmx:configRequest', function (e) {
    e.detail.headers['x-csrf-token'] = csrfToken();
  });

  function setUpMenu() {
    var toggle = document.querySelector('.nav-toggle');
    var nav = document.getElementById('staff-nav');
    if (!toggle || !nav) return;
    toggle.hidden = false;
    toggle.addEventListener('click', function () {
      var open = nav.classList.toggle('staff-nav--open');
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  }

  function focusErrorSummary() {
    var summary = document.querySelector('[data-error-summary]');
    if (summary) summary.focus();
  }

  // A chart: <canvas data-chart="ID"> and <script type="application/json" id="ID">{ type, data, options }</script>.
  function drawCharts(root) {
    if (typeof window.Chart === 'undefined') return;
    var canvases = (root || document).querySelectorAll('canvas[data-chart]');
    Array.prototype.forEach.call(canvases, function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.getAttribute('data-chart'));
      if (!source) return;
      try {
        var config = JSON.parse(source.textContent || '{}');
        config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
        new window.Chart(canvas, config);
        canvas.dataset.drawn = '1';
      } catch (err) {
        if (window.console) console.error('chart', canvas.getAttribute('data-chart'), err);
      }
    });
  }

  document.addEventListener('htmx:afterSettle', function (e) {
    drawCharts(e.target);
  });

  // A Copy button: <button data-copy="INPUT-ID" hidden> beside a read-only input; shown only when the
  // clipboard can be written, and it says what it did in the matching [data-copy-status] (a live region).
  function setUpCopyButtons() {
    if (!navigator.clipboard) return;
    Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), function (button) {
      var id = button.getAttribute('data-copy');
      var input = document.getElementById(id);
      var status = document.querySelector('[data-copy-status="' + id + '"]');
      if (!input) return;
      button.hidden = false;
      button.addEventListener('click', function () {
        navigator.clipboard.writeText(input.value).then(
          function () {
            if (status) status.textContent = 'Copied.';
          },
          function () {
            input.select();
            if (status) status.textContent = 'Could not copy: the link is selected, press Ctrl+C (or Cmd+C).';
          },
        );
      });
    });
  }

  function ready() {
    setUpMenu();
    focusErrorSummary();
    drawCharts(document);
    setUpCopyButtons();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
})();
