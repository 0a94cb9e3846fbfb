// A report's own page for its reporter: status, photos, the thread with the city, a reply box,
// the SMS code that confirms a phone number for replies, and "reopen" for a report resolved in
// the last 14 days (the API says when: can_reopen).
// The secret comes in the URL fragment (never sent to the site's server) and goes to the API
// in the X-Secret header only.
(function () {
  'use strict';
  var Inf = window.Inf, el = Inf.el, t = Inf.t;
  var id = new URLSearchParams(location.search).get('id') || '';
  var secret = new URLSearchParams(location.hash.replace(/^#/, '')).get('secret') || '';
  var status = document.getElementById('rv-status');
  var facts = document.getElementById('rv-facts');
  var photoList = document.getElementById('rv-photos');
  var thread = document.getElementById('rv-thread');
  var reply = document.getElementById('rv-reply');
  var confirmSection = document.getElementById('rv-confirm-section');
  var confirmForm = document.getElementById('rv-confirm');
  var reopenSection = document.getElementById('rv-reopen-section');
  var reopenForm = document.getElementById('rv-reopen');
  var cats = {};

  document.getElementById('rv-link').value = location.href;
  document.getElementById('rv-copy').addEventListener('click', function () {
    var input = document.getElementById('rv-link');
    input.select();
    var done = function () { Inf.setStatus(status, t('rv.copied'), 'ok'); };
    if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand('copy'); done(); });
    else { document.execCommand('copy'); done(); }
  });

  function headers() { return secret ? { 'X-Secret': secret } : {}; }
  function str(v) { return v === null || v === undefined ? '' : String(v); }
  function photoUrl(p) {
    if (typeof p === 'string') return p;
    return p && (p.url || p.display_url || p.display || p.thumb_url || p.thumbnail) || '';
  }
  function safeUrl(u) { return /^(https?:\/\/|\/)/.test(u) ? u : ''; }

  function fact(label, value) { facts.appendChild(el('dt', { text: label })); facts.appendChild(el('dd', { text: value })); }

  function render(r) {
    Inf.clear(facts); Inf.clear(photoList); Inf.clear(thread);
    fact(t('rv.status'), t('st.' + r.status) !== 'st.' + r.status ? t('st.' + r.status) : str(r.status));
    fact(t('rv.category'), cats[r.category] ? Inf.nameOf(cats[r.category]) : str(r.category_name || r.category));
    fact(t('rv.created'), Inf.fmtDate(r.created_at));
    fact(t('rv.description'), str(r.description));
    if (r.moderation === 'pending') fact(t('rv.visibility'), t('rv.moderation'));
    if (r.public_note) fact(t('rv.note'), str(r.public_note));
    var photos = (r.photos || []).filter(function (p) { return safeUrl(photoUrl(p)); });
    if (!photos.length) photoList.appendChild(el('li', { text: t('rv.no_photos') }));
    photos.forEach(function (p, i) {
      var big = safeUrl(photoUrl(p)), small = safeUrl(str(p && (p.thumb || p.thumb_url))) || big;
      photoList.appendChild(el('li', null, el('a', { href: big }, el('img', { src: small, alt: t('rv.photo_alt', { n: i + 1 }), loading: 'lazy' }))));
    });
    var messages = r.messages || r.thread || [];
    if (!messages.length) thread.appendChild(el('li', { text: t('rv.no_messages') }));
    messages.forEach(function (m) {
      var who = str(m.author || m.from || m.by || m.role);
      var mine = /reporter|resident|you/.test(who);
      var st = m.kind === 'status' && m.status ? t('rv.status') + ': ' + t('st.' + m.status) : '';
      thread.appendChild(el('li', { class: mine ? 'mine' : 'city' },
        el('strong', { text: mine ? t('rv.you') : t('rv.city') }), ' · ',
        el('span', { class: 'meta', text: Inf.fmtDate(m.at || m.created_at) }),
        st ? el('span', { class: 'meta', text: ' · ' + st }) : null, '\n',
        el('span', { text: str(m.text || m.body || m.message) })));
    });
    reply.hidden = !secret;
    var contact = r.contact || null;
    var waiting = !!(secret && contact && contact.kind === 'phone' && contact.confirmed === false);
    confirmSection.hidden = !waiting;
    if (waiting) document.getElementById('rv-code-hint').textContent = t('rv.code_hint', { phone: str(contact.phone) });
    reopenSection.hidden = !(secret && r.can_reopen === true);
  }

  // POST an action with the reporter's key; errors next to the field, the answer re-rendered.
  function act(form, path, body, statusId, done) {
    var st = document.getElementById(statusId);
    var button = form.querySelector('button[type=submit]');
    button.disabled = true;
    Inf.api('/v1/reports/' + encodeURIComponent(id) + path, { method: 'POST', headers: headers(), body: body })
      .then(function (r) {
        button.disabled = false;
        if (!r.ok) {
          Inf.setStatus(st, Inf.problem(r), 'err');
          if (r.status === 422 && r.data && r.data.error) Inf.showFieldErrors(form, r.data.error.fields || {});
          return;
        }
        Inf.clearFieldErrors(form);
        load().then(function () { Inf.setStatus(status, t(done), 'ok'); });
      }, function () { button.disabled = false; Inf.setStatus(st, t('err.network'), 'err'); });
  }

  confirmForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var code = document.getElementById('rv-code').value.replace(/\s+/g, '');
    Inf.clearFieldErrors(confirmForm);
    if (!/^\d{6}$/.test(code)) { Inf.showFieldErrors(confirmForm, { code: t('rv.need_code') }); return; }
    act(confirmForm, '/contact/confirm', { code: code }, 'rv-confirm-status', 'rv.confirmed');
  });

  reopenForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = document.getElementById('rv-reopen-text').value.trim();
    act(reopenForm, '/reopen', text ? { text: text } : {}, 'rv-reopen-status', 'rv.reopened');
  });

  function load() {
    return Inf.api('/v1/reports/' + encodeURIComponent(id), { headers: headers() }).then(function (r) {
      if (r.status === 404) { Inf.setStatus(status, t('rv.notfound'), 'err'); return; }
      if (r.status === 403) { Inf.setStatus(status, t('rv.forbidden'), 'err'); return; }
      if (!r.ok || !r.data) { Inf.setStatus(status, Inf.problem(r), 'err'); return; }
      if (!secret) Inf.setStatus(status, t('rv.no_secret'));
      render(r.data.report || r.data);
    }, function () { Inf.setStatus(status, t('err.network'), 'err'); });
  }

  reply.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = document.getElementById('rv-text');
    var rs = document.getElementById('rv-reply-status');
    Inf.clearFieldErrors(reply);
    if (!text.value.trim()) { Inf.showFieldErrors(reply, { text: t('report.need_description') }); return; }
    Inf.api('/v1/reports/' + encodeURIComponent(id) + '/messages', { method: 'POST', headers: headers(), body: { text: text.value.trim() } })
      .then(function (r) {
        if (!r.ok) {
          Inf.setStatus(rs, Inf.problem(r), 'err');
          if (r.status === 422 && r.data && r.data.error) Inf.showFieldErrors(reply, r.data.error.fields || {});
          return;
        }
        text.value = '';
        Inf.setStatus(rs, t('rv.sent'), 'ok');
        load();
      }, function () { Inf.setStatus(rs, t('err.network'), 'err'); });
  });

  if (!id) { Inf.setStatus(status, t('rv.notfound'), 'err'); return; }
  Inf.api('/v1/report-categories').then(function (r) {
    (r.data && r.data.items || []).forEach(function (c) { cats[c.id] = c; });
  }).catch(function () { /* names are a nicety */ }).then(load);
})();
