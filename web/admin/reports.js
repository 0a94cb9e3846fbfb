// Resident reports: the inbox (list + map) with filters, and one report's detail and workflow.
import { api } from './api.js';
import { errorText, nameOf, state, toast } from './app.js';
import { clear, confirmStep, field, h, select } from './dom.js';
import { getLang, t } from './i18n.js';
import { showTime } from './time.js';

const STATUSES = ['new', 'acknowledged', 'in_progress', 'resolved', 'not_ours', 'duplicate', 'rejected'];
const CLOSED = ['resolved', 'not_ours', 'duplicate', 'rejected'];
// The same transitions the API enforces (it answers 409 to any other).
const NEXT = { new: ['acknowledged', 'in_progress', ...CLOSED], acknowledged: ['in_progress', ...CLOSED],
  in_progress: CLOSED, resolved: ['acknowledged', 'in_progress'], not_ours: ['acknowledged', 'in_progress'],
  duplicate: ['acknowledged', 'in_progress'], rejected: ['acknowledged', 'in_progress'] };
const FILTER = 'informator.admin.reportFilter';

function categoryName(id) { return nameOf(state.reportCategories, id); }

export async function renderReports(main, tab) {
  const saved = JSON.parse(sessionStorage.getItem(FILTER) || '{}');
  const pending = tab === 'moderation';
  main.append(h('h1', { text: t('reports.title') }));
  main.append(h('nav.tabs', { 'aria-label': t('reports.tabs') },
    h('a', { href: '#/reports', 'aria-current': pending ? null : 'page', text: t('reports.tab.all') }),
    h('a', { href: '#/reports/moderation', 'aria-current': pending ? 'page' : null,
      text: t('reports.tab.moderation') })));
  if (pending) main.append(h('p', { text: t('reports.moderationHelp') }));
  const status = select([['', t(pending ? 'reports.anyStatus' : 'reports.allStatuses')], ...STATUSES.map((s) => [s, t(`rstatus.${s}`)])],
    saved.status || '', { name: 'status' });
  const category = select([['', t('reports.allCategories')], ...state.reportCategories.map((c) =>
    [c.id, categoryName(c.id)])], saved.category || '', { name: 'category' });
  const fs = field(t('reports.status'), status);
  const fc = field(t('reports.category'), category);
  const filters = h('form.filters', { 'aria-label': t('reports.filters') }, fs.wrap, fc.wrap);
  const list = h('section', { 'aria-label': t('reports.list'), 'aria-live': 'polite' });
  const mapBox = h('div.map', { id: 'reports-map', role: 'region', 'aria-label': t('reports.map') });
  main.append(filters, h('div.inbox', {}, list, mapBox));
  const map = makeMap(mapBox);
  let layer = map ? window.L.layerGroup().addTo(map) : null;

  async function load() {
    sessionStorage.setItem(FILTER, JSON.stringify({ status: status.value, category: category.value }));
    clear(list).append(h('p', { text: t('loading') }));
    const q = new URLSearchParams();
    if (pending) q.set('moderation', 'pending');
    if (status.value) q.set('status', status.value);
    if (category.value) q.set('category', category.value);
    let data;
    try {
      data = await api('GET', `/v1/admin/reports?${q}`);
    } catch (err) {
      clear(list).append(h('p.form-error', { role: 'alert', text: errorText(err) }));
      return;
    }
    const items = data.items || [];
    clear(list);
    if (!items.length) list.append(h('p', { text: t(pending ? 'reports.emptyModeration' : 'reports.empty') }));
    else {
      list.append(h('table.list', { id: 'reports-table' },
        h('thead', {}, h('tr', {}, ['reports.col.created', 'reports.col.category', 'reports.col.description',
          'reports.col.status'].map((k) => h('th', { scope: 'col', text: t(k) })))),
        h('tbody', {}, items.map((r) => h('tr', { dataset: { id: r.id } },
          h('td', {}, h('a', { href: `#/report/${encodeURIComponent(r.id)}`,
            text: showTime(r.created_at, getLang()) })),
          h('td', { text: categoryName(r.category) }),
          h('td.desc', { text: shorten(r.description || '', 120) + (r.photos ? ` (${t('reports.nPhotos', { n: r.photos })})` : '') }),
          h('td', { text: t(`rstatus.${r.status}`) + (r.hidden ? ` · ${t('reports.hidden')}` : '')
            + (r.moderation === 'pending' ? ` · ${t('reports.pendingModeration')}` : '') }))))));
    }
    if (layer) {
      layer.clearLayers();
      for (const r of items) {
        if (typeof r.lat !== 'number' || typeof r.lon !== 'number') continue;
        const m = window.L.circleMarker([r.lat, r.lon], { radius: 7, color: '#8a1c1c' });
        m.bindTooltip(h('span', { text: `${categoryName(r.category)}: ${shorten(r.description || '', 60)}` }));
        m.on('click', () => { window.location.hash = `#/report/${encodeURIComponent(r.id)}`; });
        layer.addLayer(m);
      }
    }
  }
  status.addEventListener('change', load);
  category.addEventListener('change', load);
  await load();
}

function shorten(s, n) { return s.length > n ? `${s.slice(0, n - 1)}…` : s; }

function makeMap(box) {
  const L = window.L;
  if (!L || !L.map) { box.append(h('p.notice', { text: t('compose.mapUnavailable') })); return null; }
  const c = (state.districts && state.districts.centre) || { lat: 52.881, lon: 20.62 };
  const map = L.map(box, { scrollWheelZoom: false }).setView([c.lat, c.lon], 13);
  const tiles = (window.INFORMATOR_CONFIG || {}).tiles || {};
  if (tiles.url) L.tileLayer(tiles.url, { attribution: tiles.attribution || '', maxZoom: 19 }).addTo(map);
  setTimeout(() => map.invalidateSize(), 100);
  return map;
}

async function loadReport(id) {
  try {
    return await api('GET', `/v1/admin/reports/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err.status === 401) throw err;
    // Without a detail route, the inbox entry carries the same fields.
    const data = await api('GET', '/v1/admin/reports');
    const found = (data.items || []).find((r) => r.id === id);
    if (!found) throw err;
    return found;
  }
}

function photoUrls(p) {
  if (typeof p === 'string') return { thumb: p, full: p };
  return { thumb: p.thumb || p.thumb_url || p.url, full: p.display || p.url || p.thumb };
}

export async function renderReport(main, id) {
  const r = await loadReport(id);
  const status = h('p', { role: 'status' });
  main.append(h('div.head', {}, h('h1', { text: t('reports.detail', { category: categoryName(r.category) }) }),
    h('a', { href: '#/reports', text: t('reports.back') })));
  main.append(h('dl.facts', {},
    h('dt', { text: t('reports.col.status') }), h('dd', { id: 'report-status', text: t(`rstatus.${r.status}`) }),
    r.moderation ? [h('dt', { text: t('reports.moderationState') }),
      h('dd', { id: 'report-moderation', text: t(`moderation.${r.moderation}`) })] : null,
    h('dt', { text: t('reports.col.created') }), h('dd', { text: showTime(r.created_at, getLang()) }),
    h('dt', { text: t('reports.address') }), h('dd', { text: r.address || `${r.lat}, ${r.lon}` }),
    r.public_note ? [h('dt', { text: t('reports.publicNote') }), h('dd', { id: 'report-note', text: r.public_note })] : null,
    h('dt', { text: t('reports.contact') }), h('dd', { text: r.contact ? (r.contact.kind === 'device' ? t('reports.viaApp') : `SMS ${r.contact.phone || ''}`) : t('reports.noContact') }),
    h('dt', { text: t('reports.col.description') }), h('dd.desc', { id: 'report-description', text: r.description || '' }),
    r.duplicate_of ? [h('dt', { text: t('reports.duplicateOf') }), h('dd', {},
      h('a', { href: `#/report/${encodeURIComponent(r.duplicate_of)}`, text: r.duplicate_of }))] : null));

  if (r.moderation === 'pending') main.append(decisionSection(main, r, id));

  const photos = (Array.isArray(r.photos) ? r.photos : []).map(photoUrls).filter((p) => p.thumb);
  main.append(h('section', { 'aria-labelledby': 'photos-title' },
    h('h2', { id: 'photos-title', text: t('reports.photos') }),
    photos.length ? h('ul.photos', {}, photos.map((p, i) => h('li', {},
      h('a', { href: p.full, target: '_blank', rel: 'noopener noreferrer' },
        h('img', { src: p.thumb, alt: t('reports.photoAlt', { n: i + 1 }), loading: 'lazy' })))))
      : h('p', { text: t('reports.noPhotos') })));

  // status with a public note
  const newStatus = select([[r.status, t('reports.keepStatus', { status: t(`rstatus.${r.status}`) })],
    ...(NEXT[r.status] || []).map((s) => [s, t(`rstatus.${s}`)])], r.status, { name: 'new-status' });
  const note = h('textarea', { name: 'note', rows: 3, maxlength: '2000' });
  const dup = h('input', { type: 'text', name: 'duplicate-of', value: r.duplicate_of || '' });
  const fStatus = field(t('reports.newStatus'), newStatus);
  const fNote = field(t('reports.publicNote'), note, t('reports.publicNoteHelp'));
  const fDup = field(t('reports.duplicateOf'), dup, t('reports.duplicateHelp'));
  const statusForm = h('form', { 'aria-labelledby': 'status-title' },
    h('h2', { id: 'status-title', text: t('reports.changeStatus') }), fStatus.wrap, fNote.wrap, fDup.wrap,
    h('button.primary', { type: 'submit', text: t('reports.saveStatus') }));
  statusForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { status: newStatus.value };
    if (note.value.trim()) body.public_note = note.value.trim();
    if (newStatus.value === 'duplicate') {
      if (!dup.value.trim()) { fDup.error.textContent = t('compose.required'); return; }
      body.duplicate_of = dup.value.trim();
    }
    try {
      await api('PATCH', `/v1/admin/reports/${encodeURIComponent(r.id)}`, body);
      toast(t('reports.statusSaved'));
      clear(main);
      await renderReport(main, id);
    } catch (err) {
      status.textContent = errorText(err);
      for (const [k, v] of Object.entries(err.fields || {})) {
        if (k === 'public_note') fNote.error.textContent = v;
        else if (k === 'duplicate_of') fDup.error.textContent = v;
        else if (k === 'status') fStatus.error.textContent = v;
      }
    }
  });
  main.append(status, statusForm);

  // message thread
  const events = r.thread || r.messages || [];
  const thread = h('ol.thread', { id: 'thread' }, events.map((m) => {
    const staff = m.author !== 'reporter';
    const who = staff ? t('reports.staff') : t('reports.reporter');
    const what = m.kind === 'status' || (m.status && m.kind !== 'message')
      ? ` · ${t('reports.statusEvent', { status: t(`rstatus.${m.status}`) })}` : '';
    return h('li', { class: staff ? 'staff' : 'reporter' },
      h('p.meta', { text: `${who}${what} · ${showTime(m.at, getLang())}` }),
      m.text ? h('p', { text: m.text }) : null);
  }));
  const reply = h('textarea', { name: 'reply', rows: 3, maxlength: '2000' });
  const fReply = field(t('reports.reply'), reply);
  const replyForm = h('form', {}, fReply.wrap, h('button.primary', { type: 'submit', text: t('reports.send') }));
  replyForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!reply.value.trim()) { fReply.error.textContent = t('compose.required'); return; }
    try {
      await api('POST', `/v1/admin/reports/${encodeURIComponent(r.id)}/messages`, { text: reply.value.trim() });
      toast(t('reports.sent'));
      clear(main);
      await renderReport(main, id);
    } catch (err) {
      fReply.error.textContent = errorText(err);
    }
  });
  main.append(h('section', { 'aria-labelledby': 'thread-title' },
    h('h2', { id: 'thread-title', text: t('reports.thread') }),
    events.length ? thread : h('p', { text: t('reports.noMessages') }), replyForm));

  // moderation
  const patch = (body) => () => api('PATCH', `/v1/admin/reports/${encodeURIComponent(r.id)}`, body);
  const device = r.contact && r.contact.kind === 'device' ? r.contact.device_id : null;
  const moderate = async (call, key, danger) => {
    const ok = await confirmStep({ title: t(`reports.${key}.title`), lines: [t(`reports.${key}.text`)],
      confirm: t(`reports.${key}.yes`), cancel: t('confirm.no'), danger });
    if (!ok) return;
    try {
      await call();
      toast(t(`reports.${key}.done`));
      clear(main);
      await renderReport(main, id);
    } catch (err) {
      status.textContent = errorText(err);
    }
  };
  main.append(h('section', { 'aria-labelledby': 'moderation-title' },
    h('h2', { id: 'moderation-title', text: t('reports.moderation') }),
    h('div.actions', {},
      r.hidden
        ? h('button.secondary', { type: 'button', text: t('reports.unhide.yes'), onclick: () => moderate(patch({ hidden: false }), 'unhide', false) })
        : h('button.secondary', { type: 'button', text: t('reports.hide.yes'), onclick: () => moderate(patch({ hidden: true }), 'hide', false) }),
      device
        ? h('button.danger', { type: 'button', text: t('reports.block.yes'), onclick: () => moderate(
          () => api('PUT', `/v1/admin/report-blocks/${encodeURIComponent(device)}`, { reason: `report ${r.id}` }), 'block', true) })
        : h('p.hint', { text: t('reports.noDevice') }))));
}

/** Approve or reject a report held by moderation; rejecting asks first. */
function decisionSection(main, r, id) {
  const out = h('p.form-error', { role: 'alert' });
  const decide = async (moderation, button) => {
    if (moderation === 'rejected') {
      const ok = await confirmStep({ title: t('reports.reject.title'), lines: [t('reports.reject.text')],
        confirm: t('reports.reject.yes'), cancel: t('confirm.no'), danger: true });
      if (!ok) return;
    }
    out.textContent = '';
    button.disabled = true;
    try {
      await api('PATCH', `/v1/admin/reports/${encodeURIComponent(r.id)}`, { moderation });
      toast(t(moderation === 'approved' ? 'reports.approve.done' : 'reports.reject.done'));
      clear(main);
      await renderReport(main, id);
    } catch (err) {
      button.disabled = false;
      out.textContent = err.status === 409 ? t('reports.notPending') : errorText(err);
    }
  };
  const approve = h('button.primary', { type: 'button', text: t('reports.approve.yes') });
  const reject = h('button.danger', { type: 'button', text: t('reports.reject.yes') });
  approve.addEventListener('click', () => decide('approved', approve));
  reject.addEventListener('click', () => decide('rejected', reject));
  return h('section.notice', { id: 'moderation-decision', 'aria-labelledby': 'decision-title' },
    h('h2', { id: 'decision-title', text: t('reports.decision') }),
    h('p', { text: t('reports.decisionHelp') }), out,
    h('div.actions', {}, approve, reject));
}
