// Alerts: the lists by status, the compose/edit form with map, live SMS preview and the actions.
import { api } from './api.js';
import { can, districtName, errorText, nameOf, state, toast } from './app.js';
import { clear, confirmStep, debounce, field, h, nextId, select } from './dom.js';
import { getLang, t } from './i18n.js';
import { showTime, warsawIso, warsawLocal } from './time.js';

const LANGS = ['pl', 'en', 'uk'];
const SEVERITIES = ['extreme', 'severe', 'moderate', 'minor', 'unknown'];
const URGENCIES = ['immediate', 'expected', 'future', 'past', 'unknown'];
const CERTAINTIES = ['observed', 'likely', 'possible', 'unlikely', 'unknown'];
const CAP_STATUSES = ['actual', 'exercise', 'test'];
const LISTS = [['draft', ['draft']], ['pending_approval', ['pending_approval']],
  ['scheduled', ['scheduled']], ['published', ['published']], ['ended', ['cancelled', 'expired']]];
const STORE = 'informator.admin.compose';

// ---- lists ------------------------------------------------------------------------------------

export async function renderAlertList(main, which) {
  const current = LISTS.find(([k]) => k === which) || LISTS[0];
  main.append(h('div.head', {}, h('h1', { text: t('alerts.title') }),
    h('a.button.primary', { href: '#/alert/new', text: t('alerts.new') })));
  main.append(h('nav.tabs', { 'aria-label': t('alerts.lists') }, LISTS.map(([k]) =>
    h('a', { href: `#/alerts/${k}`, 'aria-current': k === current[0] ? 'page' : null,
      text: t(`alerts.list.${k}`) }))));
  const region = h('section', { 'aria-label': t(`alerts.list.${current[0]}`) },
    h('p', { text: t('loading') }));
  main.append(region);
  const results = await Promise.all(current[1].map((s) =>
    api('GET', `/v1/admin/alerts?status=${encodeURIComponent(s)}`)));
  const items = results.flatMap((r) => r.items || []);
  clear(region);
  if (!items.length) { region.append(h('p', { text: t('alerts.empty') })); return; }
  region.append(h('table.list', { id: `alerts-${current[0]}` },
    h('thead', {}, h('tr', {}, ['alerts.col.title', 'alerts.col.category', 'alerts.col.severity',
      'alerts.col.districts', 'alerts.col.starts', 'alerts.col.expires', 'alerts.col.status']
      .map((k) => h('th', { scope: 'col', text: t(k) })))),
    h('tbody', {}, items.map((a) => h('tr', { dataset: { id: a.id } },
      h('td', {}, h('a', { href: `#/alert/${encodeURIComponent(a.id)}`,
        text: (a.title && (a.title[getLang()] || a.title.pl)) || a.id })),
      h('td', { text: nameOf(state.categories, a.category) }),
      h('td', { text: t(`severity.${a.severity}`) }),
      h('td', { text: districtsText(a.districts) }),
      h('td', { text: showTime(a.starts_at || a.published_at, getLang()) }),
      h('td', { text: showTime(a.expires_at, getLang()) }),
      h('td', { text: t(`status.${a.status}`) }))))));
}

function districtsText(ids) {
  if (!ids || !ids.length) return t('alerts.wholeCity');
  return ids.map(districtName).join(', ');
}

// ---- compose ----------------------------------------------------------------------------------

function emptyDraft() {
  const expires = new Date(Date.now() + 6 * 3600 * 1000);
  return { id: null, status: 'new', category: '', severity: 'moderate', urgency: 'expected',
    certainty: 'likely', cap_status: 'actual', title: {}, body: {}, instruction: {},
    districts: [], wholeCity: false, area: null, starts_local: '',
    expires_local: warsawLocal(expires), link: '', contact: '' };
}

function fromAlert(a) {
  return { id: a.id, status: a.status, version: a.version, category: a.category,
    severity: a.severity, urgency: a.urgency || 'unknown', certainty: a.certainty || 'unknown',
    cap_status: a.cap_status || 'actual', title: { ...a.title }, body: { ...a.body },
    instruction: { ...(a.instruction || {}) }, districts: [...(a.districts || [])],
    wholeCity: !(a.districts || []).length && !a.area, area: a.area || null,
    starts_local: warsawLocal(a.starts_at), expires_local: warsawLocal(a.expires_at),
    link: a.link || '', contact: a.contact || '', created_by: a.created_by };
}

function saveLocal(d) { sessionStorage.setItem(STORE, JSON.stringify(d)); }
function loadLocal() {
  try { return JSON.parse(sessionStorage.getItem(STORE) || 'null'); } catch (e) { return null; }
}
export function forgetLocal() { sessionStorage.removeItem(STORE); }

function payload(d) {
  const texts = (o) => Object.fromEntries(LANGS.filter((l) => (o[l] || '').trim())
    .map((l) => [l, o[l]]));
  const out = { category: d.category || null, severity: d.severity, urgency: d.urgency,
    certainty: d.certainty, cap_status: d.cap_status, title: texts(d.title), body: texts(d.body),
    instruction: texts(d.instruction), districts: d.wholeCity ? [] : d.districts, area: d.area,
    starts_at: warsawIso(d.starts_local), expires_at: warsawIso(d.expires_local) };
  if (d.link) out.link = d.link;
  if (d.contact) out.contact = d.contact;
  return out;
}

export async function renderCompose(main, id) {
  let d;
  const stored = loadLocal();
  if (id) {
    const alert = await api('GET', `/v1/admin/alerts/${encodeURIComponent(id)}`);
    d = fromAlert(alert);
    // Unsaved edits of this very alert (e.g. before a new sign-in) win over the stored copy.
    if (stored && stored.id === id && stored.dirty && stored.status === d.status) d = stored;
  } else {
    d = stored && !stored.id ? stored : emptyDraft();
  }
  const editable = ['new', 'draft', 'pending_approval', 'scheduled', 'published'].includes(d.status);
  const controls = {};
  const errors = {};
  let lastPreview = null;

  const heading = h('h1', { id: 'compose-title',
    text: d.id ? t('compose.editTitle', { status: t(`status.${d.status}`) }) : t('compose.newTitle') });
  const form = h('form.compose', { novalidate: true, 'aria-labelledby': 'compose-title' });
  const formStatus = h('p.form-error', { role: 'alert' });
  const fieldset = h('fieldset', { disabled: !editable }, h('legend.sr', { text: t('compose.fields') }));
  form.append(formStatus, fieldset);

  // category, severity, urgency, certainty, exercise
  const catSel = select([['', t('compose.choose')], ...state.categories.map((c) =>
    [c.id, nameOf(state.categories, c.id)])], d.category, { name: 'category', required: true });
  const meta = h('div.grid');
  for (const [key, ctrl] of [
    ['category', catSel],
    ['severity', select(SEVERITIES.map((s) => [s, t(`severity.${s}`)]), d.severity, { name: 'severity' })],
    ['urgency', select(URGENCIES.map((s) => [s, t(`urgency.${s}`)]), d.urgency, { name: 'urgency' })],
    ['certainty', select(CERTAINTIES.map((s) => [s, t(`certainty.${s}`)]), d.certainty, { name: 'certainty' })],
    ['cap_status', select(CAP_STATUSES.map((s) => [s, t(`capStatus.${s}`)]), d.cap_status, { name: 'cap_status' })],
  ]) {
    const f = field(t(`compose.${key}`), ctrl);
    controls[key] = ctrl;
    errors[key] = f.error;
    meta.append(f.wrap);
  }
  fieldset.append(meta);

  // texts per language in tabs
  const tablist = h('div.tablist', { role: 'tablist', 'aria-label': t('compose.languages') });
  const panels = h('div');
  LANGS.forEach((lang, i) => {
    const tabId = `tab-${lang}`;
    const panelId = `panel-${lang}`;
    const tab = h('button', { type: 'button', role: 'tab', id: tabId, 'aria-controls': panelId,
      'aria-selected': i === 0 ? 'true' : 'false', tabindex: i === 0 ? '0' : '-1',
      text: t(`lang.${lang}`) + (lang === 'pl' ? ' *' : '') });
    const panel = h('div.tabpanel', { role: 'tabpanel', id: panelId, 'aria-labelledby': tabId,
      hidden: i !== 0 });
    for (const [key, multi, max] of [['title', false, 160], ['body', true, 4000],
      ['instruction', true, 1000]]) {
      const ctrl = multi
        ? h('textarea', { name: `${key}-${lang}`, id: `${key}-${lang}`, rows: key === 'body' ? 5 : 2,
          maxlength: String(max) })
        : h('input', { type: 'text', name: `${key}-${lang}`, id: `${key}-${lang}`, maxlength: String(max) });
      ctrl.value = d[key][lang] || '';
      const f = field(`${t(`compose.${key}`)} (${lang})`, ctrl);
      controls[`${key}.${lang}`] = ctrl;
      errors[`${key}.${lang}`] = f.error;
      panel.append(f.wrap);
    }
    tab.addEventListener('click', () => selectTab(lang));
    tab.addEventListener('keydown', (e) => {
      const dir = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!dir) return;
      const next = LANGS[(LANGS.indexOf(lang) + dir + LANGS.length) % LANGS.length];
      selectTab(next);
      document.getElementById(`tab-${next}`).focus();
    });
    tablist.append(tab);
    panels.append(panel);
  });
  function selectTab(lang) {
    for (const l of LANGS) {
      const on = l === lang;
      const tab = document.getElementById(`tab-${l}`);
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(`panel-${l}`).hidden = !on;
    }
  }
  fieldset.append(h('div.texts', {}, tablist, panels));

  // districts
  const whole = h('input', { type: 'checkbox', id: 'whole-city', name: 'whole-city', checked: d.wholeCity });
  const districtBoxes = ((state.districts && state.districts.items) || []).map((x) =>
    h('input', { type: 'checkbox', name: 'district', value: x.id, id: `district-${x.id}`,
      checked: d.districts.includes(x.id), disabled: d.wholeCity }));
  errors.districts = h('span.field-error', { role: 'status' });
  fieldset.append(h('fieldset.districts', {}, h('legend', { text: t('compose.districts') }),
    h('div.check', {}, whole, h('label', { for: 'whole-city', text: t('alerts.wholeCity') })),
    h('div.checks', {}, districtBoxes.map((box) => h('div.check', {}, box,
      h('label', { for: box.id, text: districtName(box.value) })))), errors.districts));

  // map
  const mapBox = h('div.map', { id: 'alert-map', role: 'region', 'aria-label': t('compose.map') });
  const areaInfo = h('p.hint', { id: 'area-info', role: 'status' });
  const clearArea = h('button.secondary', { type: 'button', text: t('compose.clearArea') });
  errors.area = h('span.field-error', { role: 'status' });
  fieldset.append(h('div.field', {}, h('p.label', { text: t('compose.area') }),
    h('p.hint', { text: t('compose.areaHelp') }), mapBox, areaInfo, clearArea, errors.area));

  // validity
  const starts = h('input', { type: 'datetime-local', name: 'starts_at', value: d.starts_local });
  const expires = h('input', { type: 'datetime-local', name: 'expires_at', value: d.expires_local,
    required: true });
  const fs = field(t('compose.starts'), starts, t('compose.startsHelp'));
  const fe = field(t('compose.expires'), expires, t('compose.zone'));
  errors.starts_at = fs.error;
  errors.expires_at = fe.error;
  const link = h('input', { type: 'url', name: 'link', value: d.link });
  const contact = h('input', { type: 'text', name: 'contact', value: d.contact });
  const fl = field(t('compose.link'), link);
  const fc = field(t('compose.contact'), contact);
  errors.link = fl.error;
  errors.contact = fc.error;
  fieldset.append(h('div.grid', {}, fs.wrap, fe.wrap, fl.wrap, fc.wrap));

  // preview
  const preview = h('section.preview', { 'aria-labelledby': 'preview-title' },
    h('h2', { id: 'preview-title', text: t('preview.title') }));
  const previewBody = h('div', { id: 'sms-preview', 'aria-live': 'polite' },
    h('p', { text: t('preview.empty') }));
  preview.append(previewBody);

  // actions
  const actions = h('div.actions');
  const history = h('section.history', { 'aria-labelledby': 'history-title', hidden: true },
    h('h2', { id: 'history-title', text: t('compose.history') }));

  main.append(h('div.head', {}, heading,
    h('a', { href: `#/alerts/${d.status === 'new' ? 'draft' : listOf(d.status)}`, text: t('compose.back') })),
    h('div.compose-grid', {}, form, preview), actions, history);

  // ---- reading the form into the draft ----
  function readForm() {
    d.category = catSel.value;
    for (const k of ['severity', 'urgency', 'certainty', 'cap_status']) d[k] = controls[k].value;
    for (const l of LANGS) {
      for (const k of ['title', 'body', 'instruction']) d[k][l] = controls[`${k}.${l}`].value;
    }
    d.wholeCity = whole.checked;
    d.districts = districtBoxes.filter((b) => b.checked).map((b) => b.value);
    d.starts_local = starts.value;
    d.expires_local = expires.value;
    d.link = link.value.trim();
    d.contact = contact.value.trim();
  }
  const requestPreview = debounce(runPreview, 400);
  function changed() {
    readForm();
    d.dirty = true;
    saveLocal(d);
    requestPreview();
  }
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);
  whole.addEventListener('change', () => {
    for (const b of districtBoxes) { b.disabled = whole.checked; if (whole.checked) b.checked = false; }
  });

  function showErrors(fields) {
    for (const el of Object.values(errors)) el.textContent = '';
    for (const ctrl of Object.values(controls)) ctrl.removeAttribute('aria-invalid');
    const unknown = [];
    for (const [key, msg] of Object.entries(fields || {})) {
      const el = errors[key];
      if (el) {
        el.textContent = msg;
        if (controls[key]) controls[key].setAttribute('aria-invalid', 'true');
      } else unknown.push(`${key}: ${msg}`);
      if (/^(title|body|instruction)\.(\w+)$/.test(key)) selectTab(key.split('.')[1]);
    }
    return unknown;
  }

  function clientCheck() {
    const f = {};
    if (!d.category) f.category = t('compose.required');
    if (!(d.title.pl || '').trim()) f['title.pl'] = t('compose.plRequired');
    if (!(d.body.pl || '').trim()) f['body.pl'] = t('compose.plRequired');
    if (!d.expires_local) f.expires_at = t('compose.required');
    if (!d.wholeCity && !d.districts.length && !d.area) f.districts = t('compose.whereRequired');
    return f;
  }

  function labelOf(key) {
    const ctrl = controls[key];
    const label = ctrl && document.querySelector(`label[for="${ctrl.id}"]`);
    return label ? label.textContent : key;
  }

  // ---- preview ----
  let previewSeq = 0;
  async function runPreview() {
    const seq = ++previewSeq;
    if (!(d.title.pl || d.body.pl)) return;
    let data;
    try {
      data = await api('POST', '/v1/admin/alerts/preview',
        { ...payload(d), msg_type: ['published', 'scheduled'].includes(d.status) ? 'update' : 'alert' });
    } catch (err) {
      if (seq !== previewSeq) return;
      clear(previewBody);
      if (err.status === 422) {
        previewBody.append(h('p', { text: t('preview.incomplete') }),
          h('ul', {}, Object.entries(err.fields).map(([k, v]) => h('li', { text: `${labelOf(k)}: ${v}` }))));
      } else if (err.status === 404 || err.status === 405) {
        previewBody.append(h('p', { text: t('preview.unavailable') }));
      } else {
        previewBody.append(h('p', { text: errorText(err) }));
      }
      return;
    }
    if (seq !== previewSeq) return;
    lastPreview = normalizePreview(data);
    clear(previewBody);
    previewBody.append(previewView(lastPreview));
  }

  // ---- the map ----
  setupMap(mapBox, d, areaInfo, clearArea, editable, () => { d.dirty = true; saveLocal(d); requestPreview(); });

  // ---- actions ----
  async function save() {
    readForm();
    const problems = clientCheck();
    if (Object.keys(problems).length) {
      showErrors(problems);
      formStatus.textContent = t('compose.fixErrors');
      return null;
    }
    formStatus.textContent = '';
    try {
      const saved = d.id
        ? await api('PATCH', `/v1/admin/alerts/${encodeURIComponent(d.id)}`, payload(d))
        : await api('POST', '/v1/admin/alerts', payload(d));
      Object.assign(d, fromAlert(saved), { dirty: false });
      saveLocal(d);
      showErrors({});
      // A new alert now has an id: the address and the heading say so (a reload keeps it).
      if (window.location.hash !== `#/alert/${encodeURIComponent(d.id)}`) {
        window.history.replaceState(null, '', `#/alert/${encodeURIComponent(d.id)}`);
      }
      heading.textContent = t('compose.editTitle', { status: t(`status.${d.status}`) });
      return saved;
    } catch (err) {
      const unknown = showErrors(err.fields);
      formStatus.textContent = [errorText(err), ...unknown].join(' ');
      return null;
    }
  }

  function summary() {
    const lines = [
      `${t('compose.category')}: ${nameOf(state.categories, d.category)} · ${t(`severity.${d.severity}`)}`,
      `${t('compose.districts')}: ${d.wholeCity || !d.districts.length ? (d.area ? t('compose.drawnArea') : t('alerts.wholeCity')) : districtsText(d.districts)}`,
      `${t('compose.title')}: ${d.title.pl || ''}`,
    ];
    if (lastPreview && lastPreview.length) {
      lines.push(t('preview.summary', { sms: totalRecipients(lastPreview, 'sms'),
        push: totalRecipients(lastPreview, 'push'),
        parts: Math.max(...lastPreview.map((p) => Number(p.parts) || 0)), cost: totalCost(lastPreview) }));
    }
    return lines;
  }

  async function act(kind) {
    const verb = { publish: 'publish', approve: 'approve', update: 'update', cancel: 'cancel',
      test: 'test' }[kind];
    if (kind === 'publish' || kind === 'update') {
      readForm();
      const problems = clientCheck();
      if (Object.keys(problems).length) { showErrors(problems); formStatus.textContent = t('compose.fixErrors'); return; }
    }
    const ok = await confirmStep({ title: t(`confirm.${verb}.title`),
      lines: [t(`confirm.${verb}.text`), ...summary()], confirm: t(`confirm.${verb}.yes`),
      cancel: t('confirm.no'), danger: kind === 'cancel' });
    if (!ok) return;
    try {
      let result;
      if (kind === 'publish') {
        if (d.status === 'new' || d.status === 'draft' || d.dirty) {
          if (!(await save())) return;
        }
        result = await api('POST', `/v1/admin/alerts/${encodeURIComponent(d.id)}/publish`, {});
      } else if (kind === 'approve') {
        result = await api('POST', `/v1/admin/alerts/${encodeURIComponent(d.id)}/approve`, {});
      } else if (kind === 'update') {
        result = await api('POST', `/v1/admin/alerts/${encodeURIComponent(d.id)}/update`, payload(d));
      } else if (kind === 'cancel') {
        result = await api('POST', `/v1/admin/alerts/${encodeURIComponent(d.id)}/cancel`, {});
      } else {
        if (!d.id || d.dirty) { if (!(await save())) return; }
        result = await api('POST', `/v1/admin/alerts/${encodeURIComponent(d.id)}/test`, {});
        toast(t('compose.testSent', { n: result.sent_to ?? '?' }));
        return;
      }
      forgetLocal();
      toast(t(`done.${result.status}`, { version: result.version }));
      window.location.hash = `#/alerts/${listOf(result.status)}`;
    } catch (err) {
      const unknown = showErrors(err.fields);
      const text = (kind === 'approve' || kind === 'publish') && [403, 409].includes(err.status)
        && d.status === 'pending_approval' ? t('compose.waitsForSecond') : errorText(err);
      formStatus.textContent = [text, ...unknown].join(' ');
    }
  }

  const btn = (text, onclick, cls = 'secondary', name = '') =>
    h(`button.${cls}`, { type: 'button', text, onclick, dataset: { action: name } });
  const st = d.status;
  // The author of an alert waiting for approval cannot approve it (the API answers 403/409):
  // say so instead of offering buttons that can only fail.
  const ownPending = st === 'pending_approval' && state.me && d.created_by === state.me.email;
  if (ownPending) {
    actions.append(h('p.notice', { id: 'approval-note', text: t('compose.waitsForSecond') }));
  }
  if (['new', 'draft', 'pending_approval'].includes(st)) {
    actions.append(btn(t('compose.save'), async () => {
      if (await save()) toast(t('compose.saved'));
    }, 'secondary', 'save'));
    if (can('publisher') && !ownPending) {
      actions.append(btn(t('compose.publish'), () => act('publish'), 'primary', 'publish'));
    }
    if (st === 'pending_approval' && can('publisher') && !ownPending) {
      actions.append(btn(t('compose.approve'), () => act('approve'), 'primary', 'approve'));
    }
  }
  if (['scheduled', 'published'].includes(st) && can('publisher')) {
    actions.append(btn(t('compose.update'), () => act('update'), 'primary', 'update'));
  }
  if (['scheduled', 'published', 'pending_approval', 'draft'].includes(st) && d.id && can('publisher')) {
    actions.append(btn(t('compose.cancel'), () => act('cancel'), 'danger', 'cancel'));
  }
  if (editable && st !== 'published' && st !== 'scheduled' && can('publisher')) {
    actions.append(btn(t('compose.test'), () => act('test'), 'secondary', 'test'));
  }
  if (d.id) {
    actions.append(btn(t('compose.showHistory'), async () => {
      clear(history);
      history.hidden = false;
      history.append(h('h2', { id: 'history-title', text: t('compose.history') }));
      try {
        const v = await api('GET', `/v1/admin/alerts/${encodeURIComponent(d.id)}/versions`);
        const items = v.items || [];
        if (!items.length) { history.append(h('p', { text: t('compose.noVersions') })); return; }
        history.append(h('ol', {}, items.map((x) => h('li', {},
          h('strong', { text: `v${x.version} · ${t(`msgType.${x.msg_type || 'alert'}`)} · ${showTime(x.sent_at || x.updated_at, getLang())}` }),
          ' ', h('span', { text: (x.title && x.title.pl) || '' }), ' — ',
          h('span', { text: (x.body && x.body.pl) || '' })))));
      } catch (err) {
        history.append(h('p', { text: errorText(err) }));
      }
    }, 'secondary', 'history'));
  }
  if (d.title.pl || d.body.pl) runPreview();
}

function listOf(status) {
  return { cancelled: 'ended', expired: 'ended' }[status] || status;
}

// ---- preview helpers --------------------------------------------------------------------------

/** Accepts {pl: {...}, en: {...}} or {languages|items: [...]} or one {sms, recipients, cost}. */
export function normalizePreview(data) {
  if (!data || typeof data !== 'object') return [];
  let entries;
  if (data.languages && typeof data.languages === 'object' && !Array.isArray(data.languages)) {
    entries = LANGS.filter((l) => data.languages[l]).map((l) => [l, data.languages[l]]);
  } else if (Array.isArray(data.items || data.languages)) {
    entries = (data.items || data.languages).map((x) => [x.lang || x.language || 'pl', x]);
  } else if (LANGS.some((l) => data[l] && typeof data[l] === 'object')) {
    entries = LANGS.filter((l) => data[l] && typeof data[l] === 'object').map((l) => [l, data[l]]);
  } else {
    entries = [[data.lang || 'pl', data]];
  }
  return entries.map(([lang, x]) => {
    const sms = typeof x.sms === 'object' && x.sms ? x.sms : x;
    const rec = x.recipients !== undefined ? x.recipients : data.recipients;
    const cost = x.cost !== undefined ? x.cost : data.cost;
    return { lang, text: String(sms.text ?? (typeof x.sms === 'string' ? x.sms : '')),
      encoding: sms.encoding || '', parts: sms.parts ?? '', chars: sms.chars ?? sms.length ?? '',
      units: sms.units, recipients: typeof rec === 'object' && rec ? rec : { sms: rec },
      cost, serves: x.serves || [lang], fits: data.fits, maxParts: data.max_parts };
  });
}

function costValue(cost) {
  if (cost === undefined || cost === null) return null;
  if (typeof cost === 'number') return { amount: cost, currency: 'PLN' };
  if (typeof cost === 'object') {
    const amount = cost.total ?? cost.amount ?? cost.sms ?? cost.value;
    return amount === undefined ? null : { amount: Number(amount), currency: cost.currency || 'PLN' };
  }
  return null;
}

function totalRecipients(list, ch) {
  return list.reduce((n, p) => n + Number((p.recipients && p.recipients[ch]) || 0), 0);
}

function totalCost(list) {
  const values = list.map((p) => costValue(p.cost)).filter(Boolean);
  if (!values.length) return '—';
  const sum = values.reduce((n, v) => n + v.amount, 0);
  return `${sum.toFixed(2)} ${values[0].currency}`;
}

function previewView(list) {
  const first = list[0] || {};
  const tooLong = first.fits === false;
  return h('div', {}, tooLong ? h('p.notice', { text: t('preview.tooLong', { max: first.maxParts }) }) : null,
    list.length > 1 ? h('p', { id: 'preview-total', text: t('preview.summary', {
      sms: totalRecipients(list, 'sms'), push: totalRecipients(list, 'push'),
      parts: Math.max(...list.map((p) => Number(p.parts) || 0)), cost: totalCost(list) }) }) : null,
    list.map((p) => {
    const c = costValue(p.cost);
    return h('article.sms', { dataset: { lang: p.lang } },
      h('h3', { text: p.serves.length > 1
        ? t('preview.serves', { lang: t(`lang.${p.lang}`), others: p.serves.filter((x) => x !== p.lang).map((x) => t(`lang.${x}`)).join(', ') })
        : t(`lang.${p.lang}`) }),
      h('pre.sms-text', { text: p.text }),
      h('dl', {},
        h('dt', { text: t('preview.encoding') }),
        h('dd', { class: 'encoding', text: p.encoding === 'gsm7' ? 'GSM-7' : p.encoding === 'ucs2' ? 'UCS-2 (Unicode)' : String(p.encoding) }),
        h('dt', { text: t('preview.parts') }), h('dd', { class: 'parts', text: String(p.parts) }),
        h('dt', { text: t('preview.chars') }), h('dd', { class: 'chars', text: String(p.chars) }),
        h('dt', { text: t('preview.recipients') }),
        h('dd', { class: 'recipients', text: t('preview.recipientsValue', {
          sms: p.recipients.sms ?? '—', push: p.recipients.push ?? '—' }) }),
        h('dt', { text: t('preview.cost') }),
        h('dd', { class: 'cost', text: c ? `${c.amount.toFixed(2)} ${c.currency}` : '—' })));
  }));
}

// ---- map --------------------------------------------------------------------------------------

function setupMap(box, d, info, clearBtn, editable, onChange) {
  const L = window.L;
  const describe = () => {
    if (!d.area) info.textContent = t('compose.noArea');
    else if (d.area.type === 'Circle') info.textContent = t('compose.circleInfo', { r: d.area.radius_m });
    else info.textContent = t('compose.polygonInfo', { n: d.area.coordinates[0].length - 1 });
  };
  describe();
  clearBtn.addEventListener('click', () => {
    d.area = null;
    if (box.drawn) box.drawn.clearLayers();
    describe();
    onChange();
  });
  if (!L || !L.map) {
    box.append(h('p.notice', { text: t('compose.mapUnavailable') }));
    return;
  }
  const centre = (state.districts && state.districts.centre) || { lat: 52.881, lon: 20.62 };
  const map = L.map(box, { scrollWheelZoom: false }).setView([centre.lat, centre.lon], 13);
  const tiles = (window.INFORMATOR_CONFIG || {}).tiles || {};
  if (tiles.url) {
    L.tileLayer(tiles.url, { attribution: tiles.attribution || '', maxZoom: 19 }).addTo(map);
  }
  const boundary = state.districts && state.districts.boundary;
  if (boundary) {
    L.polygon(boundary.map(([lon, lat]) => [lat, lon]), { color: '#555', weight: 1, fill: false,
      interactive: false }).addTo(map);
  }
  const drawn = new L.FeatureGroup().addTo(map);
  box.drawn = drawn;
  if (d.area && d.area.type === 'Polygon') {
    drawn.addLayer(L.polygon(d.area.coordinates[0].slice(0, -1).map(([lon, lat]) => [lat, lon])));
  } else if (d.area && d.area.type === 'Circle') {
    drawn.addLayer(L.circle([d.area.center[1], d.area.center[0]], { radius: d.area.radius_m }));
  }
  if (!editable || !L.Control.Draw) return;
  localizeDraw(L);
  map.addControl(new L.Control.Draw({
    draw: { polygon: { allowIntersection: false, showArea: false }, circle: true, polyline: false,
      rectangle: false, marker: false, circlemarker: false },
    edit: { featureGroup: drawn },
  }));
  const toArea = (layer) => {
    if (layer instanceof L.Circle) {
      const c = layer.getLatLng();
      return { type: 'Circle', center: [round(c.lng), round(c.lat)], radius_m: Math.round(layer.getRadius()) };
    }
    const ring = layer.getLatLngs()[0].map((p) => [round(p.lng), round(p.lat)]);
    ring.push(ring[0]);
    return { type: 'Polygon', coordinates: [ring] };
  };
  map.on(L.Draw.Event.CREATED, (e) => {
    drawn.clearLayers();
    drawn.addLayer(e.layer);
    d.area = toArea(e.layer);
    describe();
    onChange();
  });
  map.on(L.Draw.Event.EDITED, () => {
    const layer = drawn.getLayers()[0];
    d.area = layer ? toArea(layer) : null;
    describe();
    onChange();
  });
  map.on(L.Draw.Event.DELETED, () => { d.area = null; describe(); onChange(); });
  setTimeout(() => map.invalidateSize(), 100);
  nextId('map');
}

function round(x) { return Math.round(x * 1e6) / 1e6; }

/** Leaflet.draw's toolbar and hints in Polish (its own texts are English only). */
function localizeDraw(L) {
  if (getLang() !== 'pl' || !L.drawLocal) return;
  const d = L.drawLocal.draw;
  const e = L.drawLocal.edit;
  Object.assign(d.toolbar.actions, { title: 'Przerwij rysowanie', text: 'Przerwij' });
  Object.assign(d.toolbar.finish, { title: 'Zakończ rysowanie', text: 'Zakończ' });
  Object.assign(d.toolbar.undo, { title: 'Usuń ostatni punkt', text: 'Usuń ostatni punkt' });
  Object.assign(d.toolbar.buttons, { polygon: 'Narysuj wielokąt', circle: 'Narysuj okrąg' });
  d.handlers.circle.tooltip.start = 'Kliknij i przeciągnij, aby narysować okrąg.';
  d.handlers.circle.radius = 'Promień';
  Object.assign(d.handlers.polygon.tooltip, { start: 'Kliknij, aby zacząć rysować obszar.',
    cont: 'Kliknij, aby dodać kolejny punkt.', end: 'Kliknij pierwszy punkt, aby zamknąć obszar.' });
  d.handlers.polyline.error = '<strong>Błąd:</strong> krawędzie nie mogą się przecinać!';
  d.handlers.simpleshape.tooltip.end = 'Puść przycisk, aby zakończyć.';
  Object.assign(e.toolbar.actions.save, { title: 'Zapisz zmiany', text: 'Zapisz' });
  Object.assign(e.toolbar.actions.cancel, { title: 'Anuluj zmiany', text: 'Anuluj' });
  Object.assign(e.toolbar.actions.clearAll, { title: 'Usuń wszystko', text: 'Usuń wszystko' });
  Object.assign(e.toolbar.buttons, { edit: 'Zmień obszar', editDisabled: 'Brak obszaru do zmiany',
    remove: 'Usuń obszar', removeDisabled: 'Brak obszaru do usunięcia' });
  e.handlers.edit.tooltip.text = 'Przeciągnij punkty, aby zmienić obszar.';
  e.handlers.edit.tooltip.subtext = 'Anuluj, aby cofnąć zmiany.';
  e.handlers.remove.tooltip.text = 'Kliknij obszar, aby go usunąć.';
}
