// SMS alerts: sign up or change choices, leave, download my data — each is "send a code, then
// confirm it". 422 field errors appear next to their fields; 429 says how long to wait.
(function () {
  'use strict';
  var Inf = window.Inf, el = Inf.el, t = Inf.t;
  var MANDATORY = 'emergency';
  var LANG_NAMES = { pl: 'Polski', en: 'English', uk: 'Українська' };
  var catNames = {}, distNames = {};

  function checkbox(prefix, group, item, name, extra) {
    var id = prefix + '-' + group + '-' + item;
    return el('div', { class: 'check' },
      el('input', Object.assign({ type: 'checkbox', id: id, name: group, value: item }, extra || {})),
      el('label', { for: id, text: name }));
  }

  function fillChoices() {
    var catBox = document.getElementById('signup-categories');
    var distBox = document.getElementById('signup-districts');
    Inf.categories().then(function (data) {
      var items = data.items.slice().sort(function (a, b) { return (a.id === MANDATORY ? -1 : 0) - (b.id === MANDATORY ? -1 : 0); });
      items.forEach(function (c) {
        catNames[c.id] = Inf.nameOf(c);
        catBox.appendChild(c.id === MANDATORY
          ? checkbox('signup', 'cat', c.id, Inf.nameOf(c), { checked: true, disabled: true, 'aria-describedby': 'signup-emergency-note' })
          : checkbox('signup', 'cat', c.id, Inf.nameOf(c)));
      });
    });
    Inf.districts().then(function (data) {
      data.items.forEach(function (d) {
        distNames[d.id] = d.name;
        distBox.appendChild(checkbox('signup', 'district', d.id, d.name));
      });
    });
    distBox.addEventListener('change', function () {
      var any = distBox.querySelector('input:checked');
      document.getElementById(any ? 'signup-area-some' : 'signup-area-city').checked = true;
    });
    document.getElementById('signup-area-city').addEventListener('change', function () {
      distBox.querySelectorAll('input').forEach(function (i) { i.checked = false; });
    });
    document.getElementById('signup-lang').value = Inf.lang;
  }

  function choices() {
    var cats = [MANDATORY];
    document.querySelectorAll('#signup-categories input:checked:not([disabled])').forEach(function (i) { cats.push(i.value); });
    var dists = [];
    if (document.getElementById('signup-area-some').checked) {
      document.querySelectorAll('#signup-districts input:checked').forEach(function (i) { dists.push(i.value); });
    }
    return { categories: cats, districts: dists, lang: document.getElementById('signup-lang').value };
  }

  function describe(result) {
    var cats = (result.categories || []).map(function (c) { return catNames[c] || c; }).join(', ');
    var area = result.districts && result.districts.length
      ? result.districts.map(function (d) { return distNames[d] || d; }).join(', ') : t('sms.whole_city');
    return t('sms.choices', { cats: cats, area: area, lang: LANG_NAMES[result.lang] || result.lang });
  }

  // One "code" flow: the start form sends a code, the code form confirms it, done shows the result.
  function flow(prefix, opts) {
    var start = document.getElementById(prefix);
    var codeForm = document.getElementById(prefix + '-code');
    var done = document.getElementById(prefix + '-done');
    var startStatus = document.getElementById(prefix + '-status');
    var codeStatus = document.getElementById(prefix + '-code-status');
    var codeInput = document.getElementById(prefix + '-code-input');
    var phone = '';

    function busy(form, on) { form.querySelectorAll('button').forEach(function (b) { b.disabled = on; }); }

    start.addEventListener('submit', function (e) {
      e.preventDefault();
      Inf.clearFieldErrors(start);
      Inf.setStatus(startStatus, '');
      var local = opts.check ? opts.check() : null;
      if (local) { Inf.showFieldErrors(start, local); Inf.setStatus(startStatus, t('err.fix'), 'err'); return; }
      phone = document.getElementById(prefix + '-phone').value.trim();
      busy(start, true);
      Inf.api(opts.path, { method: 'POST', body: opts.body(phone) }).then(function (r) {
        busy(start, false);
        if (r.status === 202 || r.ok) {
          start.hidden = true; codeForm.hidden = false;
          document.getElementById(prefix + '-code-hint').textContent = t('sms.code_hint', { phone: phone });
          codeInput.value = '';
          Inf.clearFieldErrors(codeForm); Inf.setStatus(codeStatus, '');
          codeInput.focus();
          return;
        }
        Inf.setStatus(startStatus, Inf.problem(r), 'err');
        if (r.status === 422 && r.data && r.data.error) Inf.showFieldErrors(start, r.data.error.fields || {});
      }, function () { busy(start, false); Inf.setStatus(startStatus, t('err.network'), 'err'); });
    });

    codeForm.addEventListener('submit', function (e) {
      e.preventDefault();
      Inf.clearFieldErrors(codeForm);
      busy(codeForm, true);
      Inf.api('/v1/sms-subscriptions/confirm', { method: 'POST', body: { phone: phone, code: codeInput.value.trim() } }).then(function (r) {
        busy(codeForm, false);
        if (r.ok && r.data) {
          codeForm.hidden = true; done.hidden = false;
          Inf.clear(document.getElementById(prefix + '-done-extra'));
          opts.done(r.data, document.getElementById(prefix + '-done-text'), document.getElementById(prefix + '-done-extra'));
          done.focus();
          return;
        }
        Inf.setStatus(codeStatus, Inf.problem(r), 'err');
        if (r.status === 422 && r.data && r.data.error) {
          var fields = r.data.error.fields || {};
          if (fields.phone && !fields.code) fields = { code: fields.phone };
          Inf.showFieldErrors(codeForm, fields);
        }
      }, function () { busy(codeForm, false); Inf.setStatus(codeStatus, t('err.network'), 'err'); });
    });

    document.getElementById(prefix + '-again').addEventListener('click', function () {
      done.hidden = true; start.hidden = false;
      Inf.setStatus(startStatus, '');
      document.getElementById(prefix + '-phone').focus();
    });
  }

  flow('signup', {
    path: '/v1/sms-subscriptions',
    check: function () {
      return document.getElementById('signup-consent').checked ? null : { consent: t('sms.consent_required') };
    },
    body: function (phone) { return Object.assign({ phone: phone }, choices()); },
    done: function (data, text) { text.textContent = t('sms.subscribed') + ' ' + describe(data); }
  });
  flow('leave', {
    path: '/v1/sms-subscriptions/leave',
    body: function (phone) { return { phone: phone, purpose: 'leave' }; },
    done: function (data, text) { text.textContent = t('sms.left'); }
  });
  flow('export', {
    path: '/v1/sms-subscriptions/leave',
    body: function (phone) { return { phone: phone, purpose: 'export' }; },
    done: function (data, text, extra) {
      if (!data.data) { text.textContent = t('sms.export_none'); return; }
      text.textContent = t('sms.export_done');
      var json = JSON.stringify(data.data, null, 2);
      extra.appendChild(el('pre', { class: 'data', tabindex: '0', text: json }));
      var url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
      extra.appendChild(el('p', null, el('a', { href: url, download: 'informator-moje-dane.json', class: 'button secondary', text: t('sms.export_download') })));
    }
  });
  fillChoices();
})();
