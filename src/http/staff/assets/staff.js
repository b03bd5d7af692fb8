// The staff app's small script (served from /assets; no inline script anywhere, per the CSP). Pages work
// without it; it adds: the Menu button on narrow screens, focus on a form's error summary, the CSRF token
// on htmx requests, Chart.js charts drawn from <script type="application/json"> data, copy buttons, and the
// branding page's live preview.
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

  // Settings → Branding: the preview follows the form as the owner types (colour, its contrast with white
  // text, the chosen logo, sender and reply-to). The server checks everything again on save.
  function luminance(hex) {
    var c = [1, 3, 5].map(function (i) {
      var s = parseInt(hex.slice(i, i + 2), 16) / 255;
      return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function hexOf(text) {
    var v = text.trim().replace(/^#/, '').toLowerCase();
    if (/^[0-9a-f]{6}$/.test(v)) return '#' + v;
    if (/^[0-9a-f]{3}$/.test(v)) return '#' + v.replace(/./g, function (ch) { return ch + ch; });
    return null;
  }
  function setUpBrandPreview() {
    var preview = document.querySelector('[data-brand-preview]');
    if (!preview) return;
    var status = preview.querySelector('[data-brand-contrast]');
    var color = document.querySelector('[data-brand-color]');
    if (color && status) {
      color.addEventListener('input', function () {
        var hex = color.value.trim() === '' ? preview.getAttribute('data-default-color') : hexOf(color.value);
        if (!hex) {
          status.textContent = 'Not a colour code yet: enter it like #1d4ed8.';
          return;
        }
        var ratio = 1.05 / (luminance(hex) + 0.05);
        preview.style.setProperty('--preview-brand', hex);
        status.textContent = 'White text on ' + hex + ': contrast ' + (Math.floor(ratio * 10) / 10).toFixed(1) + ':1 ' +
          (ratio >= 4.5 ? '(at least 4.5:1 is needed; this is readable).' : '— too light: at least 4.5:1 is needed, pick a darker colour.');
      });
    }
    var logo = document.querySelector('[data-brand-logo]');
    var img = document.getElementById('preview-logo');
    if (logo && img && window.FileReader) {
      logo.addEventListener('change', function () {
        var file = logo.files && logo.files[0];
        if (!file || !/^image\/(png|jpeg|webp)$/.test(file.type)) return;
        var reader = new FileReader();
        reader.onload = function () {
          img.src = String(reader.result);
          img.hidden = false;
        };
        reader.readAsDataURL(file);
      });
    }
    [['[data-brand-sender]', '[data-preview-sender]'], ['[data-brand-reply]', '[data-preview-reply]']].forEach(function (pair) {
      var input = document.querySelector(pair[0]);
      var out = preview.querySelector(pair[1]);
      if (!input || !out) return;
      // Empty means Settle's default (the workspace's name; no reply-to), not the value saved before.
      var fallback = out.getAttribute('data-fallback') || '';
      input.addEventListener('input', function () {
        out.textContent = input.value.trim() || fallback;
      });
    });
  }

  function ready() {
    setUpMenu();
    focusErrorSummary();
    drawCharts(document);
    setUpCopyButtons();
    setUpBrandPreview();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
  else ready();
})();
