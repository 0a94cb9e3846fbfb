// Subscribers (counts, legacy import), feeds, staff accounts and the audit log.
import { api } from './api.js';
import { can, districtName, errorText, nameOf, state, toast } from './app.js';
import { clear, confirmStep, field, h, select } from './dom.js';
import { getLang, t } from './i18n.js';
import { showTime, todayWarsaw } from './time.js';

function countTable(id, caption, rows) {
  return h('table.list.counts', { id },
    h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('subs.what') }),
      h('th', { scope: 'col', text: t('subs.count') }))),
    h('tbody', {}, rows.map(([label, n]) => h('tr', {}, h('th', { scope: 'row', text: label }),
      h('td.num', { text: String(n) })))));
}

function countsView(counts) {
  const entries = (o) => Object.entries(o || {}).sort((a, b) => b[1] - a[1]);
  return h('div', { id: 'subs-counts' },
    h('p', { id: 'subs-total', text: t('subs.total', { n: counts.total ?? 0 }) }),
    h('div.tables', {},
      countTable('by-channel', t('subs.byChannel'), entries(counts.by_channel).map(([k, n]) => [t(`channel.${k}`), n])),
      countTable('by-category', t('subs.byCategory'), entries(counts.by_category).map(([k, n]) => [nameOf(state.categories, k), n])),
      countTable('by-district', t('subs.byDistrict'), entries(counts.by_district).map(([k, n]) =>
        [k === 'all' ? t('alerts.wholeCity') : districtName(k), n])),
      countTable('by-lang', t('subs.byLang'), entries(counts.by_lang).map(([k, n]) => [t(`lang.${k}`), n]))));
}

export async function renderSubscribers(main) {
  main.append(h('h1', { text: t('subs.title') }), h('p', { text: t('subs.noNumbers') }));
  let view = countsView(await api('GET', '/v1/admin/subscribers/counts'));
  main.append(view);
  // After a real import the counts on the page follow.
  const refresh = async () => {
    const fresh = countsView(await api('GET', '/v1/admin/subscribers/counts'));
    view.replaceWith(fresh);
    view = fresh;
  };
  if (can('admin')) main.append(importForm(refresh));
}

function importForm(onImported) {
  const file = h('input', { type: 'file', name: 'csv', accept: '.csv,text/csv' });
  const dry = h('input', { type: 'checkbox', name: 'dry-run', id: 'dry-run', checked: true });
  const ff = field(t('subs.file'), file, t('subs.fileHelp'));
  const out = h('div', { id: 'import-report', 'aria-live': 'polite' });
  const form = h('form', { 'aria-labelledby': 'import-title' },
    h('h2', { id: 'import-title', text: t('subs.import') }), ff.wrap,
    h('div.check', {}, dry, h('label', { for: 'dry-run', text: t('subs.dryRun') })),
    h('button.primary', { type: 'submit', text: t('subs.run') }), out);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files && file.files[0];
    if (!f) { ff.error.textContent = t('compose.required'); return; }
    ff.error.textContent = '';
    if (!dry.checked) {
      const ok = await confirmStep({ title: t('subs.confirmTitle'), lines: [t('subs.confirmText')],
        confirm: t('subs.run'), cancel: t('confirm.no') });
      if (!ok) return;
    }
    const text = await f.text();
    clear(out).append(h('p', { text: t('loading') }));
    try {
      const rep = await api('POST', `/v1/admin/subscribers/import?dry_run=${dry.checked ? 1 : 0}`,
        { csv: text, dry_run: dry.checked });
      clear(out).append(importReport(rep, dry.checked));
      if (!dry.checked) await onImported().catch(() => {});
    } catch (err) {
      clear(out).append(h('p.form-error', { role: 'alert', text: errorText(err) }),
        h('ul', {}, Object.entries(err.fields || {}).map(([k, v]) => h('li', { text: `${k}: ${v}` }))));
    }
  });
  return form;
}

function importReport(rep, dry) {
  const skip = new Set(['lines', 'errors', 'skipped_lines', 'report', 'items', 'dry_run']);
  const lines = rep.lines || rep.errors || rep.skipped_lines || rep.report || rep.items || [];
  const label = (k) => { const key = `subs.key.${k}`; const s = t(key); return s === key ? k : s; };
  const value = (v) => (typeof v === 'boolean' ? t(v ? 'yes' : 'no') : String(v));
  return h('div', {},
    h('h3', { text: dry ? t('subs.dryReport') : t('subs.report') }),
    h('dl.facts', {}, Object.entries(rep).filter(([k, v]) => !skip.has(k) && v !== null && typeof v !== 'object')
      .map(([k, v]) => [h('dt', { text: label(k) }), h('dd', { dataset: { key: k }, text: value(v) })])),
    Array.isArray(lines) && lines.length ? h('h4', { text: t('subs.skippedLines') }) : null,
    Array.isArray(lines) && lines.length ? h('ol', {}, lines.map((l) => h('li', {
      text: typeof l === 'string' ? l : [l.line ?? l.row, l.phone_masked ?? l.phone, l.reason ?? l.error ?? l.message]
        .filter((x) => x !== undefined && x !== null).join(' · ') }))) : null);
}

// ---- feeds --------------------------------------------------------------------------------------

function runSummary(res) {
  const counts = ['items', 'created', 'updated', 'cancelled', 'unchanged', 'skipped']
    .filter((k) => res[k] !== undefined).map((k) => `${t(`feeds.sum.${k}`)}: ${res[k]}`).join(', ');
  const errors = Array.isArray(res.errors) ? res.errors : [];
  return h('section', { id: 'feed-run', 'aria-labelledby': 'feed-run-title', class: res.ok === false ? 'notice' : '' },
    h('h2', { id: 'feed-run-title', text: t('feeds.runTitle', { id: res.feed || '' }) }),
    h('p', { text: `${res.ok === false ? t('feeds.runFailed') : t('feeds.runOk')} · ${showTime(res.at, getLang())}` }),
    h('p', { text: counts }),
    errors.length ? [h('p', { text: `${t('feeds.sum.errors')}:` }),
      h('ul', {}, errors.map((e) => h('li', { text: e })))] : null);
}

export async function renderFeeds(main, lastRun = null) {
  main.append(h('h1', { text: t('feeds.title') }));
  if (lastRun) main.append(runSummary(lastRun));
  const data = await api('GET', '/v1/admin/feeds');
  const items = data.items || [];
  const editor = h('div', { id: 'feed-editor' });
  main.append(h('table.list', { id: 'feeds-table' },
    h('thead', {}, h('tr', {}, ['feeds.id', 'feeds.adapter', 'feeds.category', 'feeds.enabled',
      'feeds.lastRun', 'feeds.lastError', 'feeds.actions'].map((k) => h('th', { scope: 'col', text: t(k) })))),
    h('tbody', {}, items.map((f) => h('tr', { dataset: { id: f.id } },
      h('th', { scope: 'row', text: f.name && f.name !== f.id ? `${f.name} (${f.id})` : f.id }), h('td', { text: f.adapter }),
      h('td', { text: f.category ? nameOf(state.categories, f.category) : t('feeds.fromItems') }),
      h('td', { text: `${f.enabled === false ? t('no') : t('yes')}${f.auto_publish ? ` · ${t('feeds.auto')}` : ''}` }),
      h('td', { text: `${showTime(f.last_run_at, getLang())}${f.last_success_at ? ` (${t('feeds.lastOk')}: ${showTime(f.last_success_at, getLang())})` : ''}` }),
      h('td.desc', { text: f.last_error ? `${f.last_error}${f.consecutive_failures ? ` (×${f.consecutive_failures})` : ''}` : '—' }),
      h('td', {},
        h('button.secondary', { type: 'button', text: t('feeds.edit'), 'aria-label': `${t('feeds.edit')} ${f.id}`,
          onclick: () => { clear(editor).append(feedForm(f, main)); editor.scrollIntoView(); } }), ' ',
        h('button.secondary', { type: 'button', text: t('feeds.run'), 'aria-label': `${t('feeds.run')} ${f.id}`,
          onclick: async () => {
            try {
              const res = await api('POST', `/v1/admin/feeds/${encodeURIComponent(f.id)}/run`, {});
              toast(t('feeds.ran', { result: res.ok === false ? t('feeds.runFailed') : t('feeds.runOk') }),
                res.ok === false ? 'error' : 'ok');
              clear(main);
              await renderFeeds(main, res);
            } catch (err) { toast(errorText(err), 'error'); }
          } })))))),
  h('button.secondary', { type: 'button', text: t('feeds.new'),
    onclick: () => clear(editor).append(feedForm({ enabled: true, auto_publish: false, districts: [] }, main)) }),
  editor);
}

function feedForm(f, main) {
  const id = h('input', { type: 'text', name: 'feed-id', value: f.id || '', required: true, readonly: !!f.id });
  const adapter = select(['imgw_meteo', 'imgw_hydro', 'energa', 'cap_atom', 'rss', 'json'].map((a) => [a, a]),
    f.adapter || 'rss', { name: 'adapter' });
  const url = h('input', { type: 'url', name: 'url', value: f.url || '' });
  const name = h('input', { type: 'text', name: 'feed-name', value: f.name || '' });
  const schedule = h('input', { type: 'number', name: 'schedule', min: '5', max: '1440', value: String(f.schedule || 15) });
  const category = select([['', t('feeds.fromItems')], ...state.categories.map((c) => [c.id, nameOf(state.categories, c.id)])],
    f.category || '', { name: 'feed-category' });
  const districts = h('input', { type: 'text', name: 'feed-districts', value: (f.districts || []).join(', ') });
  const auto = h('input', { type: 'checkbox', id: 'feed-auto', checked: !!f.auto_publish });
  const enabled = h('input', { type: 'checkbox', id: 'feed-enabled', checked: f.enabled !== false });
  const options = h('textarea', { name: 'options', rows: 4 });
  options.value = JSON.stringify(f.options || {}, null, 1);
  const status = h('p.form-error', { role: 'alert' });
  const fields = { id: field(t('feeds.id'), id, t('feeds.idHelp')), name: field(t('feeds.name'), name),
    adapter: field(t('feeds.adapter'), adapter),
    url: field(t('feeds.url'), url), schedule: field(t('feeds.schedule'), schedule, t('feeds.scheduleHelp')),
    category: field(t('feeds.category'), category),
    districts: field(t('feeds.districts'), districts, t('feeds.districtsHelp')),
    options: field(t('feeds.options'), options, t('feeds.optionsHelp')) };
  const form = h('form', { 'aria-labelledby': 'feed-form-title' },
    h('h2', { id: 'feed-form-title', text: f.id ? t('feeds.editing', { id: f.id }) : t('feeds.new') }), status,
    Object.values(fields).map((x) => x.wrap),
    h('div.check', {}, auto, h('label', { for: 'feed-auto', text: t('feeds.autoPublish') })),
    h('div.check', {}, enabled, h('label', { for: 'feed-enabled', text: t('feeds.enabled') })),
    h('button.primary', { type: 'submit', text: t('feeds.save') }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    let opts;
    try { opts = JSON.parse(options.value || '{}'); } catch (err) {
      fields.options.error.textContent = t('feeds.badJson');
      return;
    }
    const body = { name: name.value.trim() || null, adapter: adapter.value, url: url.value.trim(),
      schedule: Number.parseInt(schedule.value, 10), category: category.value || null,
      districts: districts.value.split(',').map((x) => x.trim()).filter(Boolean),
      auto_publish: auto.checked, enabled: enabled.checked, options: opts };
    try {
      await api('PUT', `/v1/admin/feeds/${encodeURIComponent(id.value.trim())}`, body);
      toast(t('feeds.saved'));
      clear(main);
      await renderFeeds(main);
    } catch (err) {
      status.textContent = errorText(err);
      for (const [k, v] of Object.entries(err.fields || {})) if (fields[k]) fields[k].error.textContent = v;
    }
  });
  return form;
}

// ---- staff ------------------------------------------------------------------------------------

const GROUPS = ['editor', 'publisher', 'admin'];

export async function renderStaff(main) {
  main.append(h('h1', { text: t('staff.title') }), h('p', { text: t('staff.mfa') }));
  const data = await api('GET', '/v1/admin/staff');
  const items = data.items || [];
  main.append(h('table.list', { id: 'staff-table' },
    h('thead', {}, h('tr', {}, ['staff.email', 'staff.group', 'staff.state', 'staff.mfaCol', 'feeds.actions']
      .map((k) => h('th', { scope: 'col', text: t(k) })))),
    h('tbody', {}, items.map((s) => {
      const group = select(GROUPS.map((g) => [g, t(`role.${g}`)]), s.group || (s.groups || [])[0],
        { 'aria-label': t('staff.groupOf', { email: s.email }) });
      const patch = async (body, key) => {
        const lines = body.group ? [s.email, `${t('staff.group')}: ${t(`role.${body.group}`)}`] : [s.email];
        const ok = await confirmStep({ title: t(`staff.${key}`), lines, confirm: t(`staff.${key}`),
          cancel: t('confirm.no'), danger: key === 'disable' });
        if (!ok) return;
        try {
          await api('PATCH', `/v1/admin/staff/${encodeURIComponent(s.email)}`, body);
          toast(t('staff.saved'));
          clear(main);
          await renderStaff(main);
        } catch (err) { toast(errorText(err), 'error'); }
      };
      const named = (key) => t('staff.rowAction', { action: t(`staff.${key}`), email: s.email });
      const status = s.status ? t(`staff.status.${s.status}`) : t('staff.active');
      return h('tr', { dataset: { email: s.email } }, h('th', { scope: 'row', text: s.email }), h('td', {}, group),
        h('td', { text: s.enabled === false ? t('staff.disabled') : (status.startsWith('staff.') ? s.status : status) }),
        h('td', { text: s.mfa ? t('yes') : t('no') }),
        h('td', {},
          h('button.secondary', { type: 'button', text: t('staff.changeGroup'), 'aria-label': named('changeGroup'),
            onclick: () => patch({ group: group.value }, 'changeGroup') }), ' ',
          s.enabled === false
            ? h('button.secondary', { type: 'button', text: t('staff.enable'), 'aria-label': named('enable'),
              onclick: () => patch({ enabled: true }, 'enable') })
            : h('button.danger', { type: 'button', text: t('staff.disable'), 'aria-label': named('disable'),
              onclick: () => patch({ enabled: false }, 'disable') })));
    }))));
  const email = h('input', { type: 'email', name: 'invite-email', required: true });
  const group = select(GROUPS.map((g) => [g, t(`role.${g}`)]), 'editor', { name: 'invite-group' });
  const fe = field(t('staff.email'), email);
  const fg = field(t('staff.group'), group);
  const form = h('form', { 'aria-labelledby': 'invite-title' },
    h('h2', { id: 'invite-title', text: t('staff.invite') }), fe.wrap, fg.wrap,
    h('button.primary', { type: 'submit', text: t('staff.invite') }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!email.value.includes('@')) { fe.error.textContent = t('compose.required'); return; }
    try {
      await api('POST', '/v1/admin/staff', { email: email.value.trim(), group: group.value });
      toast(t('staff.invited'));
      clear(main);
      await renderStaff(main);
    } catch (err) {
      fe.error.textContent = errorText(err);
    }
  });
  main.append(form);
}

// ---- audit --------------------------------------------------------------------------------------

export async function renderAudit(main) {
  main.append(h('h1', { text: t('audit.title') }));
  const day = h('input', { type: 'date', name: 'day', value: todayWarsaw() });
  const fd = field(t('audit.day'), day);
  const out = h('section', { 'aria-label': t('audit.title'), 'aria-live': 'polite' });
  main.append(h('form.filters', {}, fd.wrap), out);
  async function load() {
    clear(out).append(h('p', { text: t('loading') }));
    try {
      const data = await api('GET', `/v1/admin/audit?day=${encodeURIComponent(day.value)}`);
      const items = data.items || [];
      clear(out);
      if (!items.length) { out.append(h('p', { text: t('audit.empty') })); return; }
      out.append(h('table.list', { id: 'audit-table' },
        h('thead', {}, h('tr', {}, ['audit.at', 'audit.actor', 'audit.action', 'audit.target', 'audit.details']
          .map((k) => h('th', { scope: 'col', text: t(k) })))),
        h('tbody', {}, items.map((a) => h('tr', {},
          h('td', { text: showTime(a.at, getLang()) }), h('td', { text: a.actor || '' }),
          h('td', { text: a.action || '' }), h('td', { text: a.target || '' }),
          h('td.desc', { text: a.details && Object.keys(a.details).length ? JSON.stringify(a.details) : '' }))))));
    } catch (err) {
      clear(out).append(h('p.form-error', { role: 'alert', text: errorText(err) }));
    }
  }
  day.addEventListener('change', load);
  await load();
}
