// Service worker of the public site: keeps the page shell for offline use and the last alerts it
// saw. Network first everywhere, so residents never get stale pages while online; when the
// network is gone, the cached copy is served, and API answers carry X-Informator-Saved-At so the
// page can say "as of <time>". Staff pages (/admin/), dev pages and private report data
// (/v1/reports) are never cached. Web Push handlers are added by the web-push work (issue 11).
'use strict';
importScripts('/push-sw.js');
var SHELL = 'informator-shell-v1';
var DATA = 'informator-data-v1';
var SHELL_FILES = [
  '/', '/index.html', '/alert.html', '/sms.html', '/report.html', '/report-view.html', '/district.html',
  '/privacy.html', '/consent.html', '/accessibility.html', '/push.html', '/config.js', '/manifest.webmanifest',
  '/assets/site.css', '/assets/i18n.js', '/assets/common.js', '/assets/alerts.js', '/assets/home.js',
  '/assets/alert.js', '/assets/map.js', '/assets/sms.js', '/assets/report.js', '/assets/report-view.js',
  '/assets/district.js', '/assets/streets.js', '/assets/push.js', '/vendor/leaflet/leaflet.js', '/vendor/leaflet/leaflet.css',
  '/icons/icon.svg', '/icons/icon-192.png'
];
var API_CACHED = /\/v1\/(alerts(\/[^/]+)?|districts|categories|report-categories)$/;

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    // one by one: a missing file must not stop the rest from being cached
    return Promise.all(SHELL_FILES.map(function (url) { return cache.add(url).catch(function () { return null; }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== SHELL && k !== DATA; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function stamped(response) {
  return response.clone().blob().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set('X-Informator-Saved-At', new Date().toISOString());
    return new Response(body, { status: response.status, statusText: response.statusText, headers: headers });
  });
}

function apiNetworkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok) {
      stamped(response).then(function (copy) {
        return caches.open(DATA).then(function (cache) { return cache.put(request.url, copy); });
      }).catch(function () { /* quota: keep serving */ });
    }
    return response;
  }, function (error) {
    return caches.open(DATA).then(function (cache) { return cache.match(request.url); }).then(function (hit) {
      if (hit) return hit;
      throw error;
    });
  });
}

function shellNetworkFirst(request) {
  return fetch(request).then(function (response) {
    if (response.ok && response.type === 'basic') {
      var copy = response.clone();
      caches.open(SHELL).then(function (cache) { return cache.put(request, copy); });
    }
    return response;
  }, function (error) {
    return caches.match(request, { ignoreSearch: request.mode === 'navigate' }).then(function (hit) {
      if (hit) return hit;
      if (request.mode === 'navigate') return caches.match('/index.html');
      throw error;
    });
  });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') return;
  var url = new URL(request.url);
  if (API_CACHED.test(url.pathname)) {
    event.respondWith(apiNetworkFirst(request));
    return;
  }
  if (url.origin !== self.location.origin) return; // tiles, photos: straight to the network
  if (/^\/(admin|dev)\//.test(url.pathname) || url.pathname === '/sw.js') return;
  event.respondWith(shellNetworkFirst(request));
});
