// Browser notifications (Web Push): choose categories and districts, allow notifications, done;
// change the choices or turn them off on the same page. The subscription's id and secret stay in
// this browser (localStorage); the secret travels only in the X-Secret header.
(function () {
  'use strict';
  var Inf = window.Inf, el = Inf.el;
  var MANDATORY = 'emergency';
  var STORE = 'informator.webpush';
  var LANG_NAMES = { pl: 'Polski', en: 'English', uk: 'Українська' };
  var TEXT = {
    pl: {
      nav: 'Powiadomienia w przeglądarce', title: 'Powiadomienia w przeglądarce',
      lead: 'Ostrzeżenia i komunikaty Urzędu Miasta jako powiadomienia w tej przeglądarce — na komputerze lub telefonie, także gdy strona jest zamknięta. Bez aplikacji i bez numeru telefonu.',
      unsupported: 'Ta przeglądarka nie obsługuje powiadomień. Na iPhonie lub iPadzie (iOS 16.4 lub nowszy) dodaj najpierw tę stronę do ekranu początkowego (Udostępnij → Do ekranu początk.), otwórz ją z ikony i wróć tutaj.',
      sms_link: 'Możesz też zapisać się na alerty SMS.',
      blocked: 'Powiadomienia dla tej strony są zablokowane w ustawieniach przeglądarki. Zezwól na nie (ikona kłódki obok adresu → Powiadomienia → Zezwalaj) i spróbuj ponownie.',
      on_title: 'Powiadomienia są włączone', form_title: 'Wybierz, o czym chcesz wiedzieć',
      change_title: 'Zmień wybór',
      categories: 'O czym chcesz dostawać powiadomienia?',
      emergency_note: 'Ostrzeżenia o zagrożeniu życia i zdrowia wysyłamy zawsze — tej kategorii nie można wyłączyć. Przestaniesz je dostawać tylko po wyłączeniu powiadomień.',
      districts: 'Dla jakiego obszaru?', whole_city: 'Całe miasto', some_districts: 'Wybrane osiedla:',
      lang: 'Język powiadomień',
      permission_hint: 'Przeglądarka zapyta, czy zezwolić na powiadomienia z tej strony — wybierz „Zezwalaj”.',
      enable: 'Włącz powiadomienia', save: 'Zapisz zmiany',
      off_title: 'Wyłącz powiadomienia',
      off_hint: 'Usuniemy tę przeglądarkę z listy odbiorców i nie wyślemy do niej już żadnego powiadomienia.',
      disable: 'Wyłącz powiadomienia',
      privacy: 'Przechowujemy tylko adres, który przeglądarka podaje do wysyłania powiadomień, i Twoje wybory — bez imienia, numeru telefonu ani lokalizacji.',
      privacy_link: 'Ochrona danych',
      working: 'Chwileczkę…', done: 'Gotowe. Powiadomienia będą przychodzić do tej przeglądarki.',
      saved: 'Zapisano zmiany.', choices: 'Kategorie: {cats}. Obszar: {area}. Język: {lang}.',
      off_done: 'Powiadomienia są wyłączone. Ta przeglądarka nie dostanie już żadnego powiadomienia.',
      denied: 'Nie zezwolono na powiadomienia, więc nic nie zapisaliśmy.',
      no_subscribe: 'Przeglądarka nie mogła włączyć powiadomień ({why}). Spróbuj ponownie później lub zapisz się na alerty SMS.',
      some_needed: 'Wybierz co najmniej jedno osiedle albo „Całe miasto”.'
    },
    en: {
      nav: 'Browser notifications', title: 'Browser notifications',
      lead: "The City Hall's warnings and notices as notifications in this browser — on a computer or phone, even when the site is closed. No app and no phone number needed.",
      unsupported: 'This browser does not support notifications. On an iPhone or iPad (iOS 16.4 or later) first add this site to the Home Screen (Share → Add to Home Screen), open it from the icon and come back here.',
      sms_link: 'You can also sign up for SMS alerts.',
      blocked: 'Notifications for this site are blocked in the browser settings. Allow them (the padlock next to the address → Notifications → Allow) and try again.',
      on_title: 'Notifications are on', form_title: 'Choose what you want to hear about',
      change_title: 'Change your choices',
      categories: 'What do you want notifications about?',
      emergency_note: 'Warnings of a threat to life or health are always sent — this category cannot be turned off. They stop only when you turn notifications off.',
      districts: 'For which area?', whole_city: 'The whole city', some_districts: 'Selected districts:',
      lang: 'Language of notifications',
      permission_hint: 'The browser will ask whether to allow notifications from this site — choose "Allow".',
      enable: 'Turn on notifications', save: 'Save changes',
      off_title: 'Turn off notifications',
      off_hint: 'We will remove this browser from the recipients and send it no more notifications.',
      disable: 'Turn off notifications',
      privacy: 'We keep only the address the browser gives for sending notifications and your choices — no name, phone number or location.',
      privacy_link: 'Data protection',
      working: 'One moment…', done: 'Done. Notifications will arrive in this browser.',
      saved: 'Changes saved.', choices: 'Categories: {cats}. Area: {area}. Language: {lang}.',
      off_done: 'Notifications are off. This browser will get no more notifications.',
      denied: 'Notifications were not allowed, so nothing was saved.',
      no_subscribe: 'The browser could not turn on notifications ({why}). Try again later or sign up for SMS alerts.',
      some_needed: 'Choose at least one district or "The whole city".'
    },
    uk: {
      nav: 'Сповіщення в браузері', title: 'Сповіщення в браузері',
      lead: 'Попередження та повідомлення міської ради як сповіщення в цьому браузері — на комп’ютері чи телефоні, навіть коли сайт закритий. Без застосунку й без номера телефону.',
      unsupported: 'Цей браузер не підтримує сповіщення. На iPhone чи iPad (iOS 16.4 або новіша) спершу додайте цей сайт на початковий екран (Поділитися → На початковий екран), відкрийте його з іконки й поверніться сюди.',
      sms_link: 'Також можна підписатися на SMS-сповіщення.',
      blocked: 'Сповіщення для цього сайту заблоковані в налаштуваннях браузера. Дозвольте їх (замок біля адреси → Сповіщення → Дозволити) і спробуйте знову.',
      on_title: 'Сповіщення увімкнено', form_title: 'Оберіть, про що хочете знати',
      change_title: 'Змінити вибір',
      categories: 'Про що ви хочете отримувати сповіщення?',
      emergency_note: 'Попередження про загрозу життю та здоров’ю надсилаються завжди — цю категорію не можна вимкнути. Вони припиняться лише після вимкнення сповіщень.',
      districts: 'Для якої території?', whole_city: 'Усе місто', some_districts: 'Вибрані райони:',
      lang: 'Мова сповіщень',
      permission_hint: 'Браузер запитає, чи дозволити сповіщення з цього сайту — оберіть «Дозволити».',
      enable: 'Увімкнути сповіщення', save: 'Зберегти зміни',
      off_title: 'Вимкнути сповіщення',
      off_hint: 'Ми видалимо цей браузер зі списку отримувачів і більше не надішлемо йому сповіщень.',
      disable: 'Вимкнути сповіщення',
      privacy: 'Ми зберігаємо лише адресу, яку браузер надає для надсилання сповіщень, і ваш вибір — без імені, номера телефону чи місцезнаходження.',
      privacy_link: 'Захист даних',
      working: 'Зачекайте…', done: 'Готово. Сповіщення надходитимуть у цей браузер.',
      saved: 'Зміни збережено.', choices: 'Категорії: {cats}. Територія: {area}. Мова: {lang}.',
      off_done: 'Сповіщення вимкнено. Цей браузер більше не отримає сповіщень.',
      denied: 'Сповіщення не дозволено, тож нічого не збережено.',
      no_subscribe: 'Браузер не зміг увімкнути сповіщення ({why}). Спробуйте пізніше або підпишіться на SMS-сповіщення.',
      some_needed: 'Оберіть принаймні один район або «Усе місто».'
    }
  };
  function t(key, vars) {
    var s = (TEXT[Inf.lang] || TEXT.pl)[key];
    if (s === undefined) s = TEXT.pl[key] || key;
    if (vars) s = s.replace(/\{(\w+)\}/g, function (m, k) { return vars[k] !== undefined ? String(vars[k]) : m; });
    return s;
  }
  document.querySelectorAll('[data-push-i18n]').forEach(function (node) { node.textContent = t(node.dataset.pushI18n); });

  var form = document.getElementById('push-form');
  var status = document.getElementById('push-status');
  var submit = document.getElementById('push-submit');
  var catNames = {}, distNames = {};

  function load() { try { return JSON.parse(localStorage.getItem(STORE) || 'null'); } catch (e) { return null; } }
  function save(v) { try { if (v) localStorage.setItem(STORE, JSON.stringify(v)); else localStorage.removeItem(STORE); } catch (e) { /* private mode */ } }

  function supported() {
    return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
  }

  function keyBytes(b64url) {
    var s = b64url.replace(/-/g, '+').replace(/_/g, '/');
    s += '===='.slice(0, (4 - s.length % 4) % 4);
    var raw = atob(s), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function sameKey(a, b) {
    if (!a || !b) return false;
    a = new Uint8Array(a);
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function checkbox(group, item, name, extra) {
    var id = 'push-' + group + '-' + item;
    return el('div', { class: 'check' },
      el('input', Object.assign({ type: 'checkbox', id: id, name: group, value: item }, extra || {})),
      el('label', { for: id, text: name }));
  }

  function fillChoices() {
    var catBox = document.getElementById('push-categories');
    var distBox = document.getElementById('push-districts');
    var cats = Inf.categories().then(function (data) {
      var items = data.items.slice().sort(function (a, b) { return (a.id === MANDATORY ? -1 : 0) - (b.id === MANDATORY ? -1 : 0); });
      items.forEach(function (c) {
        catNames[c.id] = Inf.nameOf(c);
        catBox.appendChild(c.id === MANDATORY
          ? checkbox('cat', c.id, Inf.nameOf(c), { checked: true, disabled: true, 'aria-describedby': 'push-emergency-note' })
          : checkbox('cat', c.id, Inf.nameOf(c)));
      });
    });
    var dists = Inf.districts().then(function (data) {
      data.items.forEach(function (d) {
        distNames[d.id] = d.name;
        distBox.appendChild(checkbox('district', d.id, d.name));
      });
    });
    distBox.addEventListener('change', function () {
      var any = distBox.querySelector('input:checked');
      document.getElementById(any ? 'push-area-some' : 'push-area-city').checked = true;
    });
    document.getElementById('push-area-city').addEventListener('change', function () {
      distBox.querySelectorAll('input').forEach(function (i) { i.checked = false; });
    });
    document.getElementById('push-lang').value = Inf.lang;
    return Promise.all([cats, dists]);
  }

  function choices() {
    var cats = [MANDATORY];
    form.querySelectorAll('#push-categories input:checked:not([disabled])').forEach(function (i) { cats.push(i.value); });
    var dists = [];
    if (document.getElementById('push-area-some').checked) {
      form.querySelectorAll('#push-districts input:checked').forEach(function (i) { dists.push(i.value); });
    }
    return { categories: cats, districts: dists, lang: document.getElementById('push-lang').value };
  }

  function showChoices(sub) {
    form.querySelectorAll('#push-categories input:not([disabled])').forEach(function (i) {
      i.checked = (sub.categories || []).indexOf(i.value) >= 0;
    });
    var dists = sub.districts || [];
    form.querySelectorAll('#push-districts input').forEach(function (i) { i.checked = dists.indexOf(i.value) >= 0; });
    document.getElementById(dists.length ? 'push-area-some' : 'push-area-city').checked = true;
    document.getElementById('push-lang').value = sub.lang || 'pl';
  }

  function describe(sub) {
    var cats = (sub.categories || []).map(function (c) { return catNames[c] || c; }).join(', ');
    var area = sub.districts && sub.districts.length
      ? sub.districts.map(function (d) { return distNames[d] || d; }).join(', ') : t('whole_city');
    return t('choices', { cats: cats, area: area, lang: LANG_NAMES[sub.lang] || sub.lang });
  }

  function showState(sub, message) {
    var on = !!sub;
    document.getElementById('push-on').hidden = !on;
    document.getElementById('push-off-section').hidden = !on;
    document.getElementById('push-form-h').textContent = t(on ? 'change_title' : 'form_title');
    document.getElementById('push-permission-hint').hidden = on;
    submit.textContent = t(on ? 'save' : 'enable');
    if (on) {
      var text = document.getElementById('push-on-text');
      text.textContent = (message ? message + ' ' : '') + describe(sub);
      if (message) text.focus();
    }
  }

  function registration() {
    return navigator.serviceWorker.register('/sw.js').then(function () { return navigator.serviceWorker.ready; });
  }

  // The browser's push subscription for the city's current key (a new key means a new one).
  function browserSubscription() {
    return Promise.all([registration(), Inf.api('/v1/web-push/key')]).then(function (res) {
      var reg = res[0], r = res[1];
      if (!r.ok || !r.data || !r.data.public_key) throw new Error('key ' + r.status);
      var key = keyBytes(r.data.public_key);
      return reg.pushManager.getSubscription().then(function (existing) {
        if (existing && sameKey(existing.options && existing.options.applicationServerKey, key)) return existing;
        var drop = existing ? existing.unsubscribe() : Promise.resolve(true);
        return drop.then(function () {
          return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
        });
      });
    });
  }

  function busy(on) { form.querySelectorAll('button').forEach(function (b) { b.disabled = on; }); }

  function fail(r) {
    Inf.setStatus(status, Inf.problem(r), 'err');
    if (r.status === 422 && r.data && r.data.error) Inf.showFieldErrors(form, r.data.error.fields || {});
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    Inf.clearFieldErrors(form);
    var wanted = choices();
    if (document.getElementById('push-area-some').checked && !wanted.districts.length) {
      Inf.showFieldErrors(form, { districts: t('some_needed') });
      return;
    }
    busy(true);
    Inf.setStatus(status, t('working'));
    var stored = load();
    Notification.requestPermission().then(function (permission) {
      if (permission !== 'granted') {
        document.getElementById('push-blocked').hidden = permission !== 'denied';
        throw { shown: t('denied') };
      }
      document.getElementById('push-blocked').hidden = true;
      return browserSubscription().catch(function (err) {
        throw { shown: t('no_subscribe', { why: (err && (err.name || err.message)) || 'error' }) };
      });
    }).then(function (sub) {
      var json = sub.toJSON();
      if (stored && stored.endpoint === json.endpoint) {
        return Inf.api('/v1/web-push/' + encodeURIComponent(stored.id), {
          method: 'PUT', body: wanted, headers: { 'X-Secret': stored.secret } }).then(function (r) {
          if (r.ok) return { data: r.data, message: t('saved') };
          if (r.status !== 404 && r.status !== 403) { fail(r); return null; }
          return register(json, wanted, null);  // the city no longer knows it: sign up again
        });
      }
      return register(json, wanted, stored);
    }).then(function (result) {
      busy(false);
      if (!result) return;
      Inf.setStatus(status, '');
      showChoices(result.data);
      showState(result.data, result.message);
    }, function (err) {
      busy(false);
      Inf.setStatus(status, err && err.shown ? err.shown : t('no_subscribe', { why: String(err) }), 'err');
    });
  });

  function register(json, wanted, old) {
    return Inf.api('/v1/web-push', { method: 'POST', body: Object.assign({ endpoint: json.endpoint, keys: json.keys }, wanted) }).then(function (r) {
      if (!r.ok || !r.data) { fail(r); return null; }
      if (old && old.id !== r.data.id) {  // this browser's previous subscription
        Inf.api('/v1/web-push/' + encodeURIComponent(old.id), { method: 'DELETE', headers: { 'X-Secret': old.secret } });
      }
      var mine = { id: r.data.id, secret: r.data.secret, endpoint: json.endpoint };
      save(mine);
      return Inf.api('/v1/web-push/' + encodeURIComponent(mine.id), { headers: { 'X-Secret': mine.secret } }).then(function (g) {
        return { data: g.ok ? g.data : Object.assign({}, wanted), message: t('done') };
      });
    });
  }

  document.getElementById('push-off').addEventListener('click', function () {
    var stored = load();
    var offStatus = document.getElementById('push-off-status');
    var button = document.getElementById('push-off');
    button.disabled = true;
    Inf.setStatus(offStatus, t('working'));
    var remove = stored
      ? Inf.api('/v1/web-push/' + encodeURIComponent(stored.id), { method: 'DELETE', headers: { 'X-Secret': stored.secret } })
      : Promise.resolve({ ok: true, status: 204 });
    remove.then(function (r) {
      if (!r.ok && r.status !== 404) { button.disabled = false; Inf.setStatus(offStatus, Inf.problem(r), 'err'); return; }
      save(null);
      return navigator.serviceWorker.ready.then(function (reg) { return reg.pushManager.getSubscription(); })
        .then(function (sub) { return sub ? sub.unsubscribe() : true; })
        .catch(function () { return true; })
        .then(function () {
          button.disabled = false;
          Inf.setStatus(offStatus, '');
          showState(null);
          Inf.setStatus(status, t('off_done'), 'ok');
          submit.focus();
        });
    }, function () { button.disabled = false; Inf.setStatus(offStatus, Inf.t('err.network'), 'err'); });
  });

  if (!supported()) {
    document.getElementById('push-unsupported').hidden = false;
    document.getElementById('push-form-section').hidden = true;
    return;
  }
  if (Notification.permission === 'denied') document.getElementById('push-blocked').hidden = false;
  fillChoices().then(function () {
    var stored = load();
    if (!stored) { showState(null); return; }
    return Inf.api('/v1/web-push/' + encodeURIComponent(stored.id), { headers: { 'X-Secret': stored.secret } }).then(function (r) {
      if (r.ok && r.data) { showChoices(r.data); showState(r.data); return; }
      if (r.status === 404 || r.status === 403) save(null);
      showState(null);
    }, function () { showState(null); });
  }).catch(function () { showState(null); });
})();
