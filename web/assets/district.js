// "Which district am I in?": a map click, typed coordinates or a street from a small list →
// point-in-polygon on the districts from the API (approximate polygons, said on the page).
(function () {
  'use strict';
  var Inf = window.Inf, t = Inf.t;
  var result = document.getElementById('d-result');
  var data = null, map = null, marker = null, drawn = null;
  var streets = window.INFORMATOR_STREETS || [];

  var list = document.getElementById('d-streets');
  streets.forEach(function (s) { list.appendChild(Inf.el('option', { value: s.name })); });

  function answer(lat, lon, street) {
    if (!data) return;
    var d = window.InfMap.districtAt(data, lat, lon);
    var text = !d ? t('district.outside')
      : street ? t('district.street_result', { street: street, name: d.name }) : t('district.result', { name: d.name });
    Inf.setStatus(result, text, d ? 'ok' : 'err');
    if (map) {
      if (!marker) marker = L.marker([lat, lon], { keyboard: false, alt: text }).addTo(map);
      else marker.setLatLng([lat, lon]);
      Object.keys(drawn.layers).forEach(function (id) {
        drawn.layers[id].setStyle(d && id === d.id ? { fillColor: '#0b4f8a', fillOpacity: 0.3 } : { fillOpacity: 0.05 });
      });
    }
    document.getElementById('d-lat').value = lat.toFixed(5);
    document.getElementById('d-lon').value = lon.toFixed(5);
  }

  function norm(s) { return s.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/ł/g, 'l').replace(/^(ul\.|ulica|plac|pl\.)\s*/, '').trim(); }

  document.getElementById('d-coords').addEventListener('submit', function (e) {
    e.preventDefault();
    var la = parseFloat(document.getElementById('d-lat').value.replace(',', '.'));
    var lo = parseFloat(document.getElementById('d-lon').value.replace(',', '.'));
    if (!isFinite(la) || !isFinite(lo)) { Inf.setStatus(result, t('report.need_place'), 'err'); return; }
    answer(la, lo);
  });
  document.getElementById('d-street').addEventListener('submit', function (e) {
    e.preventDefault();
    var q = norm(document.getElementById('d-street-input').value);
    var hit = q && streets.filter(function (s) { return norm(s.name) === q; })[0]
      || q && streets.filter(function (s) { return norm(s.name).indexOf(q) >= 0; })[0];
    if (!hit) { Inf.setStatus(result, t('district.street_none'), 'err'); return; }
    answer(hit.lat, hit.lon, hit.name);
  });

  Inf.districts().then(function (d) {
    data = d;
    map = window.InfMap.create(document.getElementById('d-map'));
    if (!map) return;
    drawn = window.InfMap.drawDistricts(map, d);
    map.on('click', function (e) { answer(e.latlng.lat, e.latlng.lng); });
  }, function () { Inf.setStatus(result, t('err.network'), 'err'); });
})();
