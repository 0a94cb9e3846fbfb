// Home: the active alerts (most severe first, as the API sorts them), filters, list and map
// views, the last 30 days of history. The last answer is kept so the page still shows it,
// marked with its time, when the network is gone.
(function () {
  'use strict';
  var Inf = window.Inf, InfAlerts = window.InfAlerts, el = Inf.el, t = Inf.t;
  var ctx = { districts: {}, cats: {}, districtData: null };
  var form = document.getElementById('filters');
  var catSel = document.getElementById('f-category');
  var distSel = document.getElementById('f-district');
  var list = document.getElementById('alert-list');
  var status = document.getElementById('alerts-status');
  var mapBox = document.getElementById('alerts-map');
  var listBox = document.getElementById('list-view');
  var mapView = document.getElementById('map-view');
  var current = [];
  var map = null, drawn = null;
  var params = new URLSearchParams(location.search);

  function option(value, text) { return el('option', { value: value, text: text }); }

  function fillFilters() {
    Object.keys(ctx.cats).forEach(function (id) { catSel.appendChild(option(id, Inf.nameOf(ctx.cats[id]))); });
    Object.keys(ctx.districts).forEach(function (id) { distSel.appendChild(option(id, ctx.districts[id].name)); });
    catSel.value = params.get('category') || '';
    distSel.value = params.get('district') || '';
  }

  function query(extra) {
    var q = new URLSearchParams({ lang: Inf.lang });
    if (catSel.value) q.set('category', catSel.value);
    if (distSel.value) q.set('district', distSel.value);
    if (extra) Object.keys(extra).forEach(function (k) { q.set(k, extra[k]); });
    return '/v1/alerts?' + q.toString();
  }

  function storeKey() { return 'alerts:' + Inf.lang + ':' + catSel.value + ':' + distSel.value; }

  function render(items, savedAt) {
    current = items;
    Inf.clear(list);
    items.forEach(function (a) { list.appendChild(InfAlerts.card(a, ctx, 2)); });
    var parts = [items.length ? t('alerts.count', { n: items.length }) : t('alerts.none')];
    if (savedAt) parts.unshift(t('alerts.offline', { time: Inf.fmtDate(savedAt) }));
    else parts.push(t('alerts.updated', { time: Inf.fmtDate(new Date().toISOString()) }));
    Inf.setStatus(status, parts.join(' · '), savedAt ? 'err' : '');
    document.getElementById('offline-banner').hidden = !savedAt;
    if (map) paintMap();
  }

  function load() {
    Inf.setStatus(status, t('alerts.loading'));
    return Inf.api(query()).then(function (r) {
      if (!r.ok || !r.data) { Inf.setStatus(status, Inf.problem(r), 'err'); return; }
      var items = r.data.items || [];
      if (!r.savedAt) {
        try { localStorage.setItem(storeKey(), JSON.stringify({ at: new Date().toISOString(), items: items })); } catch (e) { /* full */ }
      }
      render(items, r.savedAt);
    }, function () {
      var saved = null;
      try { saved = JSON.parse(localStorage.getItem(storeKey()) || 'null'); } catch (e) { saved = null; }
      if (saved) render(saved.items, saved.at);
      else Inf.setStatus(status, t('alerts.error'), 'err');
    });
  }

  function paintMap() {
    if (!drawn) return;
    var rank = {};
    current.forEach(function (a) {
      var ids = a.districts && a.districts.length ? a.districts : Object.keys(ctx.districts);
      ids.forEach(function (id) { (rank[id] = rank[id] || []).push(a); });
    });
    var colours = { extreme: '#8b0000', severe: '#b3261e', moderate: '#8a4b00', minor: '#1d5e20', unknown: '#4a5360' };
    Object.keys(drawn.layers).forEach(function (id) {
      var layer = drawn.layers[id], here = rank[id] || [];
      var worst = here.length ? InfAlerts.severity(here[0]) : null;
      layer.setStyle(worst ? { color: colours[worst], fillColor: colours[worst], fillOpacity: 0.25 } : { color: '#0b4f8a', fillOpacity: 0.05 });
      var box = el('div', null, el('strong', { text: ctx.districts[id].name }),
        el('p', { text: here.length ? t('map.district_alerts', { n: here.length }) : t('alerts.none') }),
        here.length ? el('ul', null, here.map(function (a) {
          return el('li', null, el('a', { href: 'alert.html?id=' + encodeURIComponent(a.id), text: a.title }));
        })) : null);
      layer.bindPopup(box);
    });
  }

  function showView(which) {
    var isMap = which === 'map';
    listBox.hidden = isMap; mapView.hidden = !isMap;
    document.getElementById('view-list').setAttribute('aria-pressed', String(!isMap));
    document.getElementById('view-map').setAttribute('aria-pressed', String(isMap));
    if (isMap && !map && ctx.districtData) {
      map = window.InfMap.create(mapBox);
      if (map) { drawn = window.InfMap.drawDistricts(map, ctx.districtData); paintMap(); }
    }
    if (isMap && map) map.invalidateSize();
  }

  function loadHistory() {
    var box = document.getElementById('history-list');
    var hs = document.getElementById('history-status');
    Inf.setStatus(hs, t('alerts.loading'));
    Inf.api(query({ include: 'expired', limit: 100 })).then(function (r) {
      if (!r.ok || !r.data) { Inf.setStatus(hs, Inf.problem(r), 'err'); return; }
      var past = (r.data.items || []).filter(function (a) { return a.status !== 'published'; });
      Inf.clear(box);
      past.forEach(function (a) { box.appendChild(InfAlerts.card(a, ctx, 3)); });
      Inf.setStatus(hs, past.length ? t('alerts.count', { n: past.length }) : t('history.none'));
    }, function () { Inf.setStatus(hs, t('err.network'), 'err'); });
  }

  form.addEventListener('submit', function (e) { e.preventDefault(); load(); });
  [catSel, distSel].forEach(function (s) {
    s.addEventListener('change', function () {
      var u = new URL(location.href);
      ['category', 'district'].forEach(function (k, i) {
        var v = [catSel, distSel][i].value;
        if (v) u.searchParams.set(k, v); else u.searchParams.delete(k);
      });
      history.replaceState(null, '', u.pathname + u.search);
      load();
    });
  });
  document.getElementById('view-list').addEventListener('click', function () { showView('list'); });
  document.getElementById('view-map').addEventListener('click', function () { showView('map'); });
  document.getElementById('history-show').addEventListener('click', loadHistory);

  Promise.all([Inf.districts().catch(function () { return null; }), Inf.categories().catch(function () { return null; })])
    .then(function (res) {
      if (res[0]) { ctx.districtData = res[0]; ctx.districts = InfAlerts.byId(res[0].items); }
      if (res[1]) ctx.cats = InfAlerts.byId(res[1].items);
      fillFilters();
      return load();
    });
})();
