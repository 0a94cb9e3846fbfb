// The staff admin page: sign-in, navigation by role, hash routes to the views.
import { api, answerChallenge, clearSession, config, getEmail, getToken, onSessionExpired,
         signIn } from './api.js';
import { clear, field, h, nextId } from './dom.js';
import { getLang, setLang, t } from './i18n.js';
import { renderAlertList, renderCompose } from './alerts.js';
import { renderReport, renderReports } from './reports.js';
import { renderOpen311Keys } from './open311.js';
import { renderAudit, renderFeeds, renderStaff, renderSubscribers } from './views.js';

const RANK = { editor: 1, publisher: 2, admin: 3 };
export const state = { me: null, categories: [], districts: null, reportCategories: [] };

export function can(role) { return !!state.me && (RANK[state.me.role] || 0) >= RANK[role]; }

export function toast(text, kind = 'ok') {
  const el = document.getElementById('toast');
  el.className = `toast ${kind}`;
  el.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.textContent = ''; el.className = 'toast'; }, 6000);
}

export function errorText(err) {
  if (!err) return t('error.generic');
  if (err.status === 0) return t('error.network');
  if (err.status === 403) return t('error.forbidden');
  if (err.status === 404) return t('error.notFound');
  return err.message || t('error.generic');
}

// ---- sign-in ----------------------------------------------------------------------------------

function cognitoMessage(err) {
  const map = { NotAuthorizedException: 'login.badPassword', UserNotFoundException: 'login.badPassword',
    InvalidPasswordException: 'login.weakPassword', CodeMismatchException: 'login.badCode',
    ExpiredCodeException: 'login.badCode', PasswordResetRequiredException: 'login.resetRequired',
    TooManyRequestsException: 'login.tooMany', network: 'error.network' };
  return t(map[err.code] || 'login.failed');
}

/** The sign-in form with its challenge steps; onDone() runs once a token is stored. */
function loginForm({ email = '', onDone, headingId }) {
  const box = h('section.login', { 'aria-labelledby': headingId });
  const status = h('p.form-error', { role: 'alert' });
  let step = null;

  function show(form) {
    clear(box);
    box.append(h('h1', { id: headingId, text: t('login.title') }), status, form);
    const first = form.querySelector('input');
    if (first) first.focus();
  }

  async function run(promise, button) {
    status.textContent = '';
    button.disabled = true;
    try {
      const res = await promise;
      if (res.done) { onDone(); return; }
      step = res;
      if (res.challenge === 'NEW_PASSWORD_REQUIRED') show(newPasswordForm());
      else if (res.challenge === 'SOFTWARE_TOKEN_MFA') show(codeForm());
      else if (res.challenge === 'MFA_SETUP') await showMfaSetup();
      else status.textContent = t('login.unsupported', { name: res.challenge });
    } catch (err) {
      status.textContent = cognitoMessage(err);
    } finally {
      button.disabled = false;
    }
  }

  function credentialsForm() {
    const user = field(t('login.email'), h('input', { type: 'email', name: 'email', value: email,
      autocomplete: 'username', required: true }));
    const pass = field(t('login.password'), h('input', { type: 'password', name: 'password',
      autocomplete: 'current-password', required: true }));
    const btn = h('button.primary', { type: 'submit', text: t('login.submit') });
    const form = h('form', { novalidate: true }, user.wrap, pass.wrap, btn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!user.input.value || !pass.input.value) { status.textContent = t('login.missing'); return; }
      run(signIn(user.input.value.trim(), pass.input.value), btn);
    });
    return form;
  }

  function newPasswordForm() {
    const p1 = field(t('login.newPassword'), h('input', { type: 'password', name: 'new-password',
      autocomplete: 'new-password', required: true }), t('login.passwordRules'));
    const p2 = field(t('login.repeatPassword'), h('input', { type: 'password', name: 'repeat-password',
      autocomplete: 'new-password', required: true }));
    const btn = h('button.primary', { type: 'submit', text: t('login.setPassword') });
    const form = h('form', { novalidate: true }, h('p', { text: t('login.firstLogin') }), p1.wrap,
      p2.wrap, btn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (p1.input.value.length < 8 || p1.input.value !== p2.input.value) {
        status.textContent = t('login.passwordMismatch');
        return;
      }
      run(answerChallenge(step, { NEW_PASSWORD: p1.input.value }), btn);
    });
    return form;
  }

  function codeForm() {
    const code = field(t('login.code'), h('input', { type: 'text', name: 'code', inputmode: 'numeric',
      autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6', required: true }));
    const btn = h('button.primary', { type: 'submit', text: t('login.verify') });
    const form = h('form', { novalidate: true }, h('p', { text: t('login.codeHelp') }), code.wrap, btn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      run(answerChallenge(step, { SOFTWARE_TOKEN_MFA_CODE: code.input.value.trim() }), btn);
    });
    return form;
  }

  async function showMfaSetup() {
    // Publisher and admin accounts must add an authenticator app (TOTP) on first sign-in.
    const resp = await fetch(`${(config.cognito.endpoint || `https://cognito-idp.${config.region}.amazonaws.com`).replace(/\/$/, '')}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1',
                 'X-Amz-Target': 'AWSCognitoIdentityProviderService.AssociateSoftwareToken' },
      body: JSON.stringify({ Session: step.session }),
    });
    const data = await resp.json();
    if (!resp.ok) throw Object.assign(new Error(data.message), { code: 'failed' });
    step.session = data.Session || step.session;
    const code = field(t('login.code'), h('input', { type: 'text', name: 'code', inputmode: 'numeric',
      autocomplete: 'one-time-code', maxlength: '6', required: true }));
    const btn = h('button.primary', { type: 'submit', text: t('login.verify') });
    const form = h('form', { novalidate: true }, h('p', { text: t('login.mfaSetup') }),
      h('p.secret', { text: data.SecretCode || '' }), code.wrap, btn);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      btn.disabled = true;
      try {
        const v = await fetch(`${(config.cognito.endpoint || `https://cognito-idp.${config.region}.amazonaws.com`).replace(/\/$/, '')}/`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-amz-json-1.1',
                     'X-Amz-Target': 'AWSCognitoIdentityProviderService.VerifySoftwareToken' },
          body: JSON.stringify({ Session: step.session, UserCode: code.input.value.trim() }),
        });
        const vd = await v.json();
        if (!v.ok || vd.Status !== 'SUCCESS') throw Object.assign(new Error('x'), { code: 'CodeMismatchException' });
        step.session = vd.Session || step.session;
        step.challenge = 'MFA_SETUP';
        await run(answerChallenge(step, {}), btn);
      } catch (err) {
        status.textContent = cognitoMessage(err);
      } finally {
        btn.disabled = false;
      }
    });
    show(form);
  }

  show(credentialsForm());
  return box;
}

function reloginDialog() {
  return new Promise((resolve) => {
    const headingId = nextId('relogin');
    const dlg = h('dialog.relogin', { 'aria-labelledby': headingId });
    dlg.append(h('p.notice', { role: 'alert', text: t('login.expired') }),
      loginForm({ email: getEmail(), headingId,
        onDone: () => { dlg.close(); dlg.remove(); resolve(); } }));
    // The dialog cannot be dismissed without signing in: the pending call waits for it.
    dlg.addEventListener('cancel', (e) => e.preventDefault());
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = dlg.querySelector('input[name="password"]') || dlg.querySelector('input');
    if (first) first.focus();
  });
}

// ---- shell ------------------------------------------------------------------------------------

const NAV = [
  ['#/alerts/draft', 'nav.alerts', 'editor'], ['#/reports', 'nav.reports', 'editor'],
  ['#/subscribers', 'nav.subscribers', 'editor'], ['#/feeds', 'nav.feeds', 'admin'],
  ['#/staff', 'nav.staff', 'admin'], ['#/open311', 'nav.open311', 'admin'],
  ['#/audit', 'nav.audit', 'admin'],
];

function langSwitch() {
  const other = getLang() === 'pl' ? 'en' : 'pl';
  return h('button.link', { type: 'button', lang: other, text: other === 'en' ? 'English' : 'Polski',
    onclick: () => { setLang(other); boot(); } });
}

function renderShell() {
  document.documentElement.lang = getLang();
  document.title = t('app.title');
  document.getElementById('brand-sub').textContent = t('app.sub');
  document.querySelector('.skip').textContent = t('app.skip');
  const nav = document.getElementById('nav');
  const user = document.getElementById('user');
  clear(nav);
  clear(user);
  if (state.me) {
    nav.hidden = false;
    nav.append(h('ul', {}, NAV.filter(([, , role]) => can(role)).map(([href, key]) =>
      h('li', {}, h('a', { href, text: t(key), dataset: { nav: href.split('/')[1] } })))));
    user.append(h('span', { text: `${state.me.email} · ${t(`role.${state.me.role}`)}` }), ' ',
      langSwitch(), ' ',
      h('button.link', { type: 'button', text: t('login.logout'), onclick: logout }));
  } else {
    nav.hidden = true;
    user.append(langSwitch());
  }
}

function logout() {
  clearSession();
  state.me = null;
  sessionStorage.removeItem('informator.admin.compose');
  window.location.hash = '';
  boot();
}

function showLogin() {
  const main = clear(document.getElementById('main'));
  main.append(loginForm({ email: getEmail(), headingId: 'login-title', onDone: () => boot() }));
  // The form was built detached, where focus() does nothing: put the cursor in it now.
  const first = main.querySelector(getEmail() ? 'input[name="password"]' : 'input');
  if (first) first.focus();
}

async function loadReference() {
  const base = config.api;
  const get = (p) => fetch(`${base}${p}`).then((r) => (r.ok ? r.json() : { items: [] }))
    .catch(() => ({ items: [] }));
  const [cats, dists, rcats] = await Promise.all([get('/v1/categories'), get('/v1/districts'),
    get('/v1/report-categories')]);
  state.categories = cats.items || [];
  state.districts = dists;
  state.reportCategories = rcats.items || [];
}

export function nameOf(list, id) {
  const item = list.find((x) => x.id === id);
  if (!item) return id;
  const name = item.name;
  if (typeof name === 'string') return name;
  return (name && (name[getLang()] || name.pl)) || id;
}

export function districtName(id) {
  return nameOf((state.districts && state.districts.items) || [], id);
}

async function route() {
  const main = clear(document.getElementById('main'));
  const parts = (window.location.hash || '#/alerts/draft').slice(2).split('/');
  const [view, arg] = parts;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.nav === view || (view === 'alert' && a.dataset.nav === 'alerts')
        || (view === 'report' && a.dataset.nav === 'reports')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const views = {
    alerts: () => renderAlertList(main, arg || 'draft'),
    alert: () => renderCompose(main, arg === 'new' ? null : decodeURIComponent(arg || '')),
    reports: () => renderReports(main, arg),
    report: () => renderReport(main, decodeURIComponent(arg || '')),
    subscribers: () => renderSubscribers(main),
    feeds: () => renderFeeds(main),
    staff: () => renderStaff(main),
    audit: () => renderAudit(main),
    open311: () => renderOpen311Keys(main),
  };
  try {
    await (views[view] || views.alerts)();
  } catch (err) {
    main.append(h('p.form-error', { role: 'alert', text: errorText(err) }));
  }
}

async function boot() {
  renderShell();
  if (!getToken()) { showLogin(); return; }
  try {
    state.me = await api('GET', '/v1/admin/me', undefined, { reauth: false });
  } catch (err) {
    clearSession();
    state.me = null;
    showLogin();
    return;
  }
  if (!state.districts) await loadReference();
  renderShell();
  await route();
}

onSessionExpired(reloginDialog);
window.addEventListener('hashchange', () => { if (state.me) route(); });
boot();
