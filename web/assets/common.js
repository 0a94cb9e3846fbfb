// Shared by every public page: configuration, language, API calls, safe DOM building, dates,
// category icons, districts, form errors. Resident and feed text is only ever set as text
// (textContent / createTextNode), never parsed as HTML.
(function () {
  'use strict';
  var conf = window.INFORMATOR_CONFIG || {};
  var LANGS = ['pl', 'en', 'uk'];
  var API = String(conf.api || '').replace(/\/+$/, '');

  function pickLang() {
    var q = new URLSearchParams(location.search).get('lang');
    var stored = null;
    try { stored = localStorage.getItem('lang'); } catch (e) { /* storage may be off */ }
    var lang = LANGS.indexOf(q) >= 0 ? q : (LANGS.indexOf(stored) >= 0 ? stored : 'pl');
    if (q && LANGS.indexOf(q) >= 0) { try { localStorage.setItem('lang', q); } catch (e) { /* ignore */ } }
    return lang;
  }
  var lang = pickLang();

  function t(key, vars) {
    var dict = (window.I18N || {})[lang] || {};
    var s = dict[key];
    if (s === undefined) s = ((window.I18N || {}).pl || {})[key];
    if (s === undefined) s = key;
    if (vars) s = s.replace(/\{(\w+)\}/g, function (m, k) { return vars[k] !== undefined ? String(vars[k]) : m; });
    return s;
  }

  function applyI18n(root) {
    root = root || document;
    root.querySelectorAll('[data-i18n]').forEach(function (node) {
      var vars = node.dataset.i18nVars ? JSON.parse(node.dataset.i18nVars) : null;
      node.textContent = t(node.dataset.i18n, vars);
    });
    root.querySelectorAll('[data-i18n-attr]').forEach(function (node) {
      node.dataset.i18nAttr.split(';').forEach(function (pair) {
        var p = pair.split(':');
        if (p.length === 2) node.setAttribute(p[0].trim(), t(p[1].trim()));
      });
    });
  }

  // el('p', {class: 'x'}, 'text', child): strings become text nodes, never markup.
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') node.textContent = v;
      else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : v);
    });
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  // fetch JSON from the API; resolves {ok, status, data, retryAfter, savedAt}; rejects only on
  // network failure (no answer at all).
  function api(path, opts) {
    opts = opts || {};
    var headers = Object.assign({ 'Accept': 'application/json' }, opts.headers || {});
    var init = { method: opts.method || 'GET', headers: headers };
    if (opts.body !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(opts.body); }
    return fetch(API + path, init).then(function (r) {
      return r.text().then(function (txt) {
        var data = null;
        try { data = txt ? JSON.parse(txt) : null; } catch (e) { data = null; }
        return { ok: r.ok, status: r.status, data: data,
                 retryAfter: parseInt(r.headers.get('Retry-After') || '0', 10) || 0,
                 savedAt: r.headers.get('X-Informator-Saved-At') };
      });
    });
  }

  var TZ = 'Europe/Warsaw';
  function fmtDate(iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var locale = { pl: 'pl-PL', en: 'en-GB', uk: 'uk-UA' }[lang];
    return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: TZ }).format(d);
  }
  function fmtWait(seconds) {
    return seconds >= 90 ? t('err.minutes', { n: Math.ceil(seconds / 60) }) : t('err.seconds', { n: seconds });
  }

  // Category icons: simple 24x24 outline drawings, built as SVG nodes (no markup parsing).
  var ICONS = {
    water: ['M12 3C9 8 6 11 6 14.5A6 6 0 0 0 18 14.5C18 11 15 8 12 3Z'],
    electricity: ['M13 2L5 14h6l-1 8 8-12h-6l1-8Z'],
    gas: ['M12 2c1 4 5 6 5 11a5 5 0 0 1-10 0c0-3 2-4 2-7 2 1 3 3 3 5', 'M12 22a2.5 2.5 0 0 0 2.5-2.5C14.5 17 12 16 12 16s-2.5 1-2.5 3.5A2.5 2.5 0 0 0 12 22Z'],
    heating: ['M4 20h16', 'M6 20V9', 'M10 20V9', 'M14 20V9', 'M18 20V9', 'M6 9a2 2 0 0 1 12 0', 'M9 5c0-1 1-1 1-2', 'M14 5c0-1 1-1 1-2'],
    roads: ['M8 21L10 3', 'M16 21L14 3', 'M12 5v2', 'M12 11v2', 'M12 17v2'],
    events: ['M4 6h16v14H4Z', 'M4 10h16', 'M8 3v5', 'M16 3v5'],
    weather: ['M7 18a4 4 0 0 1 0-8 5 5 0 0 1 9.6-1.5A4 4 0 0 1 17 18Z', 'M9 21l1-2', 'M13 21l1-2'],
    emergency: ['M12 3L2 20h20L12 3Z', 'M12 10v4', 'M12 17v.5'],
    other: ['M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Z', 'M12 11v6', 'M12 7v.5']
  };
  function icon(category) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24'); svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false'); svg.setAttribute('class', 'icon');
    svg.setAttribute('fill', 'none'); svg.setAttribute('stroke', 'currentColor');
    svg.setAttribute('stroke-width', '2'); svg.setAttribute('stroke-linecap', 'round'); svg.setAttribute('stroke-linejoin', 'round');
    (ICONS[category] || ICONS.other).forEach(function (d) {
      var p = document.createElementNS(ns, 'path'); p.setAttribute('d', d); svg.appendChild(p);
    });
    return svg;
  }

  var cache = {};
  function once(key, path) {
    if (!cache[key]) cache[key] = api(path).then(function (r) {
      if (!r.ok || !r.data) throw new Error(key + ' ' + r.status);
      return r.data;
    });
    return cache[key];
  }
  function districts() { return once('districts', '/v1/districts'); }
  function categories() { return once('categories', '/v1/categories'); }
  function nameOf(item) { return item && item.name ? (item.name[lang] || item.name.pl || item.id) : ''; }

  // Form errors: a <p class="field-error" id="err-<form>-<field>"> next to each field.
  function showFieldErrors(form, fields) {
    var first = null;
    form.querySelectorAll('[data-field]').forEach(function (input) {
      var name = input.dataset.field;
      var box = form.querySelector('#' + input.dataset.errorId);
      var msg = fields && fields[name];
      if (box) box.textContent = msg ? String(msg) : '';
      if (input.matches('input, select, textarea')) {
        if (msg) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
      }
      if (msg && !first) first = input;
    });
    if (first) {
      var focusable = first.matches('input, select, textarea') ? first : first.querySelector('input:not([disabled]), select, textarea');
      if (focusable) focusable.focus();
    }
    return !!first;
  }
  function clearFieldErrors(form) { showFieldErrors(form, {}); }

  // An API answer that is not ok, as one sentence for a status line.
  function problem(r) {
    if (r.status === 429) {
      var wait = r.retryAfter || 60;
      return t('err.wait', { time: fmtWait(wait) }) + (r.data && r.data.error ? ' ' + r.data.error.message : '');
    }
    if (r.status === 422) return t('err.fix');
    if (r.data && r.data.error && r.data.error.message) return r.data.error.message;
    return t('err.generic', { status: r.status });
  }

  function setStatus(node, text, kind) {
    node.textContent = text || '';
    node.className = 'status' + (kind ? ' ' + kind : '');
  }

  function initChrome() {
    document.documentElement.lang = lang;
    applyI18n(document);
    document.querySelectorAll('nav.langs a[hreflang]').forEach(function (a) {
      var u = new URL(location.href);
      u.searchParams.set('lang', a.getAttribute('hreflang'));
      a.href = u.pathname + u.search + u.hash;
      if (a.getAttribute('hreflang') === lang) a.setAttribute('aria-current', 'true');
      else a.removeAttribute('aria-current');
    });
    var path = location.pathname.replace(/\/$/, '/index.html');
    document.querySelectorAll('nav.main a').forEach(function (a) {
      if (new URL(a.href).pathname === path) a.setAttribute('aria-current', 'page');
    });
    document.querySelectorAll('a[data-feed]').forEach(function (a) { a.href = API + a.dataset.feed; });
    var h1 = document.querySelector('h1');
    if (h1) document.title = h1.textContent + ' — ' + t('site.name');
    var note = document.querySelector('[data-polish-only]');
    if (note) { note.hidden = lang === 'pl'; }
    if ('serviceWorker' in navigator && conf.stage !== 'test-no-sw') {
      navigator.serviceWorker.register('/sw.js').catch(function () { /* offline support is a bonus */ });
    }
  }

  window.Inf = {
    conf: conf, api: api, apiBase: API, lang: lang, langs: LANGS, t: t, applyI18n: applyI18n,
    el: el, clear: clear, fmtDate: fmtDate, fmtWait: fmtWait, icon: icon, districts: districts,
    categories: categories, nameOf: nameOf, showFieldErrors: showFieldErrors,
    clearFieldErrors: clearFieldErrors, problem: problem, setStatus: setStatus
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', initChrome);
  else initChrome();
})();
