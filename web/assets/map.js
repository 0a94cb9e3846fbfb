// Leaflet helpers for the public pages: a map with the city's tiles (a city setting from
// config.js) and the district polygons from the API. Every page works without the map: if
// Leaflet or the tiles fail, a note says so and the text alternatives stay.
(function () {
  'use strict';
  var Inf = window.Inf;

  // GeoJSON order [lon, lat] → Leaflet [lat, lon]
  function ring(points) { return points.map(function (p) { return [p[1], p[0]]; }); }

  function create(container, opts) {
    opts = opts || {};
    if (!window.L) {
      container.classList.add('map-fallback');
      container.textContent = Inf.t('map.unavailable');
      return null;
    }
    container.setAttribute('role', 'region');
    container.setAttribute('aria-label', opts.label || Inf.t('map.label'));
    var map = L.map(container, { scrollWheelZoom: false, keyboard: true }).setView([52.881, 20.62], 13);
    map.attributionControl.setPrefix(false);
    var tiles = (Inf.conf.tiles || {});
    if (tiles.url) {
      var layer = L.tileLayer(tiles.url, { attribution: tiles.attribution || '', maxZoom: 19, crossOrigin: false });
      var warned = false;
      layer.on('tileerror', function () {
        if (warned) return;
        warned = true;
        var note = document.createElement('p');
        note.className = 'note map-note';
        note.textContent = Inf.t('map.tiles_failed');
        container.insertAdjacentElement('afterend', note);
      });
      layer.addTo(map);
    }
    return map;
  }

  // Draw the districts; returns {layers: {id: polygon}, bounds}
  function drawDistricts(map, data, style) {
    var layers = {};
    var group = L.featureGroup();
    data.items.forEach(function (d) {
      var poly = L.polygon(ring(d.polygon), Object.assign({ color: '#0b4f8a', weight: 2, fillOpacity: 0.05 }, style || {}));
      poly.districtId = d.id;
      layers[d.id] = poly;
      group.addLayer(poly);
    });
    group.addTo(map);
    if (data.boundary) map.fitBounds(L.polygon(ring(data.boundary)).getBounds());
    return { layers: layers, group: group };
  }

  // Ray casting on a [lon, lat] ring
  function inRing(lon, lat, points) {
    var inside = false;
    for (var i = 0, j = points.length - 1; i < points.length; j = i++) {
      var xi = points[i][0], yi = points[i][1], xj = points[j][0], yj = points[j][1];
      if (((yi > lat) !== (yj > lat)) && (lon < (xj - xi) * (lat - yi) / (yj - yi) + xi)) inside = !inside;
    }
    return inside;
  }
  function districtAt(data, lat, lon) {
    if (data.boundary && !inRing(lon, lat, data.boundary)) return null;
    for (var k = 0; k < data.items.length; k++) {
      if (inRing(lon, lat, data.items[k].polygon)) return data.items[k];
    }
    return null;
  }

  // An alert's own area (GeoJSON Polygon or {type: Circle, center: [lon, lat], radius_m})
  function drawArea(map, area) {
    if (!area || !window.L) return null;
    var layer = null;
    if (area.type === 'Polygon' && area.coordinates) layer = L.polygon(ring(area.coordinates[0]), { color: '#b3261e', weight: 3, fillOpacity: 0.2 });
    else if (area.type === 'Circle' && area.center) layer = L.circle([area.center[1], area.center[0]], { radius: area.radius_m, color: '#b3261e', weight: 3, fillOpacity: 0.2 });
    if (layer) layer.addTo(map);
    return layer;
  }

  window.InfMap = { create: create, drawDistricts: drawDistricts, districtAt: districtAt, drawArea: drawArea, ring: ring };
})();
