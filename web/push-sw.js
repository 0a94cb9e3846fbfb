// Web Push handlers of the public site's service worker (imported by /sw.js with importScripts).
// A push carries the alert as JSON {title, body, url, alert_id, severity, category, ...}
// (chalicelib/services/webpush.py); a click opens the alert's page on this site.
'use strict';

self.addEventListener('push', function (event) {
  var data = {};
  if (event.data) {
    try { data = event.data.json(); } catch (e) { data = { body: event.data.text() }; }
  }
  var critical = data.category === 'emergency' || data.severity === 'extreme' || data.severity === 'severe';
  var options = {
    body: data.body || '',
    data: { url: data.url || '/' },
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    lang: data.lang || 'pl',
    requireInteraction: critical
  };
  if (data.tag || data.alert_id) {
    options.tag = data.tag || ('alert-' + data.alert_id);  // a newer version replaces the older one
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(data.title || 'Informator Ciechanów', options));
});

function alertPage(url) {
  // only pages of this site: a push never opens a foreign address
  try {
    var u = new URL(url, self.location.origin);
    if (u.origin === self.location.origin) return u.href;
    return new URL(u.pathname + u.search + u.hash, self.location.origin).href;
  } catch (e) {
    return new URL('/', self.location.origin).href;
  }
}

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var target = alertPage((event.notification.data || {}).url || '/');
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (list) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].url === target && 'focus' in list[i]) return list[i].focus();
    }
    return self.clients.openWindow(target);
  }));
});
