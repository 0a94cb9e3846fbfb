// Alert pieces shared by the home page and the alert page: badges, validity, district names.
(function () {
  'use strict';
  var Inf = window.Inf, el = Inf.el, t = Inf.t;
  var SEVERITIES = ['extreme', 'severe', 'moderate', 'minor', 'unknown'];

  function severity(a) { return SEVERITIES.indexOf(a.severity) >= 0 ? a.severity : 'unknown'; }

  function badges(a) {
    var out = [el('span', { class: 'badge ' + severity(a), text: t('sev.' + severity(a)) })];
    if (a.exercise) out.push(el('span', { class: 'badge exercise', text: t('mark.exercise') }));
    if (a.status === 'cancelled' || a.msg_type === 'cancel') out.push(el('span', { class: 'badge cancel', text: t('mark.cancel') }));
    else if (a.status === 'expired') out.push(el('span', { class: 'badge cancel', text: t('mark.expired') }));
    else if (a.msg_type === 'update' || (a.version || 1) > 1) out.push(el('span', { class: 'badge update', text: t('mark.update') }));
    return out;
  }

  function districtNames(a, byId) {
    if (!a.districts || !a.districts.length) return t('alert.whole_city');
    return a.districts.map(function (id) { return byId[id] ? byId[id].name : id; }).join(', ');
  }

  function validity(a) { return t('alert.valid', { from: Inf.fmtDate(a.starts_at), to: Inf.fmtDate(a.expires_at) }); }

  function categoryName(a, catsById) { return catsById[a.category] ? Inf.nameOf(catsById[a.category]) : a.category; }

  function card(a, ctx, headingLevel) {
    var sev = severity(a);
    var body = String(a.body || '');
    if (body.length > 280) body = body.slice(0, 277) + '…';
    return el('li', null, el('article', { class: 'alert-card sev-' + sev },
      Inf.icon(a.category),
      el('div', { class: 'text' },
        el('h' + (headingLevel || 2), null, el('a', { href: 'alert.html?id=' + encodeURIComponent(a.id), text: a.title })),
        el('p', null, badges(a), el('span', { class: 'meta', text: categoryName(a, ctx.cats) })),
        el('p', { class: 'meta', text: validity(a) }),
        el('p', { class: 'meta', text: t('alert.districts') + ': ' + districtNames(a, ctx.districts) }),
        el('p', { text: body }))));
  }

  function byId(items) { var m = {}; (items || []).forEach(function (i) { m[i.id] = i; }); return m; }

  window.InfAlerts = { card: card, badges: badges, severity: severity, districtNames: districtNames,
                       validity: validity, categoryName: categoryName, byId: byId, SEVERITIES: SEVERITIES };
})();
