// Report a problem: category, place (map pin, "use my location" or typed coordinates — the
// keyboard alternative to the map), description, up to 5 photos shrunk in the browser and
// uploaded straight to the bucket with the presigned forms the API hands out.
(function () {
  'use strict';
  var Inf = window.Inf, el = Inf.el, t = Inf.t;
  var MAX_PHOTOS = 5, MAX_SIDE = 2048;
  var form = document.getElementById('report');
  var cat = document.getElementById('r-category');
  var lat = document.getElementById('r-lat');
  var lon = document.getElementById('r-lon');
  var desc = document.getElementById('r-description');
  var photos = document.getElementById('r-photos');
  var phone = document.getElementById('r-phone');
  var status = document.getElementById('r-status');
  var placeStatus = document.getElementById('r-place-status');
  var progressList = document.getElementById('r-progress');
  var map = null, marker = null;

  Inf.api('/v1/report-categories').then(function (r) {
    (r.data && r.data.items || []).forEach(function (c) { cat.appendChild(el('option', { value: c.id, text: Inf.nameOf(c) })); });
  }, function () { Inf.setStatus(status, t('err.network'), 'err'); });

  function setPlace(la, lo, announce) {
    lat.value = la.toFixed(6); lon.value = lo.toFixed(6);
    if (map) {
      if (!marker) marker = L.marker([la, lo], { title: t('report.pin'), alt: t('report.pin'), keyboard: false }).addTo(map);
      else marker.setLatLng([la, lo]);
    }
    if (announce) Inf.setStatus(placeStatus, t('report.located', { lat: lat.value, lon: lon.value }), 'ok');
  }
  function typed() {
    var la = parseFloat(lat.value.replace(',', '.')), lo = parseFloat(lon.value.replace(',', '.'));
    return isFinite(la) && isFinite(lo) ? [la, lo] : null;
  }

  Inf.districts().then(function (data) {
    map = window.InfMap && window.InfMap.create(document.getElementById('r-map'), { label: t('report.place') });
    if (!map) return;
    window.InfMap.drawDistricts(map, data, { interactive: false, fillOpacity: 0 });
    map.on('click', function (e) { setPlace(e.latlng.lat, e.latlng.lng, true); });
  }, function () { window.InfMap && window.InfMap.create(document.getElementById('r-map')); });

  [lat, lon].forEach(function (input) {
    input.addEventListener('change', function () { var p = typed(); if (p) setPlace(p[0], p[1], false); });
  });

  document.getElementById('r-locate').addEventListener('click', function () {
    if (!navigator.geolocation) { Inf.setStatus(placeStatus, t('report.locate_failed'), 'err'); return; }
    Inf.setStatus(placeStatus, t('report.locating'));
    navigator.geolocation.getCurrentPosition(function (pos) {
      setPlace(pos.coords.latitude, pos.coords.longitude, true);
      if (map) map.setView([pos.coords.latitude, pos.coords.longitude], 16);
    }, function () { Inf.setStatus(placeStatus, t('report.locate_failed'), 'err'); }, { enableHighAccuracy: true, timeout: 15000 });
  });

  photos.addEventListener('change', function () {
    Inf.showFieldErrors(form, photos.files.length > MAX_PHOTOS ? { photos: t('report.too_many') } : {});
  });

  // Decode (respecting EXIF orientation), scale to at most 2048 px, re-encode as JPEG. The JPEG
  // carries no EXIF, so no GPS leaves the phone. What the browser cannot decode goes as it is
  // (the photo function checks it).
  function shrink(file) {
    if (!window.createImageBitmap) return Promise.resolve(file);
    return createImageBitmap(file, { imageOrientation: 'from-image' }).then(function (bmp) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bmp.width, bmp.height));
      var canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(bmp.width * scale));
      canvas.height = Math.max(1, Math.round(bmp.height * scale));
      canvas.getContext('2d').drawImage(bmp, 0, 0, canvas.width, canvas.height);
      if (bmp.close) bmp.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob || file); }, 'image/jpeg', 0.85);
      });
    }).catch(function () { return file; });
  }

  function upload(target, blob, n, total) {
    var bar = el('progress', { max: '100', value: '0', id: 'r-progress-' + n });
    var label = el('label', { for: 'r-progress-' + n, text: t('report.uploading', { n: n, total: total }) });
    progressList.appendChild(el('li', null, label, ' ', bar));
    return new Promise(function (resolve) {
      var data = new FormData();
      Object.keys(target.fields || {}).forEach(function (k) { data.append(k, target.fields[k]); });
      data.append('file', blob, 'photo-' + n + (blob.type === 'image/jpeg' ? '.jpg' : ''));
      var xhr = new XMLHttpRequest();
      xhr.open('POST', target.url);
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = function () {
        var ok = xhr.status >= 200 && xhr.status < 300;
        if (ok) bar.value = 100; else label.textContent = t('report.upload_failed', { n: n });
        resolve(ok);
      };
      xhr.onerror = function () { label.textContent = t('report.upload_failed', { n: n }); resolve(false); };
      xhr.send(data);
    });
  }

  function localErrors(files) {
    var e = {};
    if (!cat.value) e.category = t('report.need_category');
    if (!typed()) { e.lat = t('report.need_place'); }
    if (!desc.value.trim()) e.description = t('report.need_description');
    if (files.length > MAX_PHOTOS) e.photos = t('report.too_many');
    return Object.keys(e).length ? e : null;
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var files = Array.prototype.slice.call(photos.files || []);
    var bad = localErrors(files);
    if (bad) { Inf.showFieldErrors(form, bad); Inf.setStatus(status, t('err.fix'), 'err'); return; }
    Inf.clearFieldErrors(form);
    var button = document.getElementById('r-submit');
    button.disabled = true;
    Inf.setStatus(status, t('report.sending'));
    var place = typed();
    Promise.all(files.map(shrink)).then(function (blobs) {
      var body = { category: cat.value, description: desc.value.trim(), lat: place[0], lon: place[1], photos: blobs.length };
      // an optional number for replies: the API texts a code, the report's page asks for it
      if (phone.value.trim()) body.contact = { phone: phone.value.trim() };
      return Inf.api('/v1/reports', { method: 'POST', body: body }).then(function (r) {
        if (!r.ok || !r.data || !r.data.id) {
          button.disabled = false;
          Inf.setStatus(status, Inf.problem(r), 'err');
          if (r.status === 422 && r.data && r.data.error) {
            var f = Object.assign({}, r.data.error.fields || {});
            if (f.location && !f.lat) f.lat = f.location;
            Inf.showFieldErrors(form, f);
          }
          return;
        }
        var uploads = r.data.uploads || [];
        var chain = Promise.resolve();
        blobs.forEach(function (b, i) {
          if (uploads[i]) chain = chain.then(function () { return upload(uploads[i], b, i + 1, blobs.length); });
        });
        return chain.then(function () {
          location.href = 'report-view.html?id=' + encodeURIComponent(r.data.id) + '#secret=' + encodeURIComponent(r.data.secret);
        });
      });
    }, function () { button.disabled = false; Inf.setStatus(status, t('err.network'), 'err'); })
      .catch(function () { button.disabled = false; Inf.setStatus(status, t('err.network'), 'err'); });
  });
})();
