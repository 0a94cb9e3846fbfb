// One alert's own page (the link in every SMS lands here): texts, marks, validity, area, CAP.
(function () {
  'use strict';
  var Inf = window.Inf, InfAlerts = window.InfAlerts, el = Inf.el, t = Inf.t;
  var id = new URLSearchParams(location.search).get('id') || '';
  var title = document.getElementById('alert-title');
  var status = document.getElementById('alert-status');
  var content = document.getElementById('alert-content');

  function fact(label, value) { return [el('dt', { text: label }), el('dd', null, value)]; }

  function render(a, districtData, cats) {
    var dById = InfAlerts.byId(districtData ? districtData.items : []);
    title.textContent = a.title;
    document.title = a.title + ' — ' + t('site.name');
    Inf.clear(document.getElementById('alert-icon')).appendChild(Inf.icon(a.category));
    document.getElementById('alert').className = 'alert-full sev-' + InfAlerts.severity(a);
    Inf.clear(content);
    if (a.exercise) content.appendChild(el('p', { class: 'notice', text: t('mark.exercise_long') }));
    if (a.status === 'cancelled' || a.msg_type === 'cancel') content.appendChild(el('p', { class: 'notice', text: t('mark.cancel_long') }));
    if (Inf.lang !== 'pl' && a.lang === 'pl') content.appendChild(el('p', { class: 'note', lang: Inf.lang, text: t('alert.lang_fallback') }));
    content.appendChild(el('p', null, InfAlerts.badges(a)));
    content.appendChild(el('dl', { class: 'facts' },
      fact(t('alert.category'), InfAlerts.categoryName(a, InfAlerts.byId(cats ? cats.items : []))),
      fact(t('alert.severity'), t('sev.' + InfAlerts.severity(a))),
      fact(t('alert.from'), Inf.fmtDate(a.starts_at)),
      fact(t('alert.to'), Inf.fmtDate(a.expires_at)),
      fact(t('alert.districts'), InfAlerts.districtNames(a, dById)),
      fact(t('alert.updated'), Inf.fmtDate(a.updated_at))));
    var textLang = a.lang || 'pl';
    content.appendChild(el('p', { class: 'body', lang: textLang, text: a.body || '' }));
    if (a.instruction) {
      content.appendChild(el('h2', { text: t('alert.instruction') }));
      content.appendChild(el('p', { class: 'instruction', lang: textLang, text: a.instruction }));
    }
    if (a.link && /^https?:\/\//.test(a.link)) {
      content.appendChild(el('p', null, el('a', { href: a.link, rel: 'noopener noreferrer', text: t('alert.more') })));
    }
    if (a.contact) content.appendChild(el('p', null, t('alert.contact') + ': ', el('span', { text: a.contact })));
    var cap = document.getElementById('alert-cap');
    cap.href = Inf.apiBase + '/v1/alerts/' + encodeURIComponent(a.id) + '/cap';
    document.getElementById('alert-cap-box').hidden = false;
    if (districtData && window.InfMap) {
      document.getElementById('alert-map-box').hidden = false;
      var map = window.InfMap.create(document.getElementById('alert-map'), { label: t('alert.map') });
      if (map) {
        var drawn = window.InfMap.drawDistricts(map, districtData);
        var target = a.districts && a.districts.length ? a.districts : Object.keys(drawn.layers);
        target.forEach(function (d) {
          if (drawn.layers[d]) drawn.layers[d].setStyle({ color: '#b3261e', fillColor: '#b3261e', fillOpacity: 0.25 });
        });
        var area = window.InfMap.drawArea(map, a.area);
        if (area) map.fitBounds(area.getBounds());
      }
    }
  }

  if (!id) { Inf.setStatus(status, t('alert.notfound'), 'err'); return; }
  Promise.all([
    Inf.api('/v1/alerts/' + encodeURIComponent(id) + '?lang=' + Inf.lang),
    Inf.districts().catch(function () { return null; }),
    Inf.categories().catch(function () { return null; })
  ]).then(function (res) {
    var r = res[0];
    if (r.status === 404) { Inf.setStatus(status, t('alert.notfound'), 'err'); return; }
    if (!r.ok || !r.data) { Inf.setStatus(status, Inf.problem(r), 'err'); return; }
    if (r.savedAt) Inf.setStatus(status, t('alerts.offline', { time: Inf.fmtDate(r.savedAt) }), 'err');
    render(r.data, res[1], res[2]);
  }, function () { Inf.setStatus(status, t('alerts.error'), 'err'); });
})();
