// Open311 API keys (admin): the list (never the keys), issuing a key shown once, revoking one.
import { api } from './api.js';
import { errorText, toast } from './app.js';
import { clear, confirmStep, field, h } from './dom.js';
import { getLang, t } from './i18n.js';
import { showTime } from './time.js';

async function copyText(input) {
  try {
    await navigator.clipboard.writeText(input.value);
    return true;
  } catch (e) {
    // No clipboard permission (plain http, an old browser): fall back to the selection.
    input.focus();
    input.select();
    try { return document.execCommand('copy'); } catch (e2) { return false; }
  }
}

/** The new key, shown this one time with a copy button and the warning. */
function shownKey(made) {
  const input = h('input', { type: 'text', id: 'open311-new-key', readonly: true, value: made.key,
    spellcheck: 'false', autocomplete: 'off', class: 'secret' });
  const f = field(t('o311.keyFor', { name: made.name || '' }), input);
  const copy = h('button.primary', { type: 'button', text: t('o311.copy') });
  copy.addEventListener('click', async () => {
    const ok = await copyText(input);
    toast(ok ? t('o311.copied') : t('o311.copyFailed'), ok ? 'ok' : 'error');
  });
  return h('section.notice', { id: 'open311-key-shown', 'aria-labelledby': 'open311-key-title' },
    h('h2', { id: 'open311-key-title', text: t('o311.created') }),
    h('p', { role: 'alert' }, h('strong', { text: t('o311.once') })),
    f.wrap, h('div.actions', {}, copy));
}

export async function renderOpen311Keys(main, made = null) {
  main.append(h('h1', { text: t('o311.title') }), h('p', { text: t('o311.intro') }));
  if (made) main.append(shownKey(made));
  const data = await api('GET', '/v1/admin/open311-keys');
  const items = data.items || [];
  if (!items.length) main.append(h('p', { id: 'open311-empty', text: t('o311.empty') }));
  else {
    main.append(h('table.list', { id: 'open311-keys' },
      h('caption', { text: t('o311.list') }),
      h('thead', {}, h('tr', {}, ['o311.name', 'o311.createdAt', 'o311.createdBy', 'feeds.actions']
        .map((k) => h('th', { scope: 'col', text: t(k) })))),
      h('tbody', {}, items.map((k) => {
        const del = h('button.danger', { type: 'button', text: t('o311.delete'),
          'aria-label': t('o311.deleteNamed', { name: k.name || k.id }) });
        del.addEventListener('click', async () => {
          const ok = await confirmStep({ title: t('o311.deleteTitle'),
            lines: [k.name || k.id, t('o311.deleteText')], confirm: t('o311.deleteYes'),
            cancel: t('confirm.no'), danger: true });
          if (!ok) return;
          try {
            await api('DELETE', `/v1/admin/open311-keys/${encodeURIComponent(k.id)}`);
            toast(t('o311.deleted'));
          } catch (err) {
            toast(errorText(err), 'error');
          }
          clear(main);
          await renderOpen311Keys(main);
        });
        return h('tr', { dataset: { id: k.id } },
          h('th', { scope: 'row', text: k.name || k.id }),
          h('td', { text: showTime(k.created_at, getLang()) }),
          h('td', { text: k.created_by || '—' }),
          h('td', {}, del));
      }))));
  }
  const name = h('input', { type: 'text', name: 'key-name', maxlength: '100', required: true });
  const fn = field(t('o311.name'), name, t('o311.nameHelp'));
  const btn = h('button.primary', { type: 'submit', text: t('o311.create') });
  const form = h('form', { 'aria-labelledby': 'open311-new-title', novalidate: true },
    h('h2', { id: 'open311-new-title', text: t('o311.new') }), fn.wrap, btn);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    fn.error.textContent = '';
    if (!name.value.trim()) { fn.error.textContent = t('compose.required'); name.focus(); return; }
    btn.disabled = true;
    let created;
    try {
      created = await api('POST', '/v1/admin/open311-keys', { name: name.value.trim() });
    } catch (err) {
      btn.disabled = false;
      fn.error.textContent = (err.fields && err.fields.name) || errorText(err);
      return;
    }
    clear(main);
    await renderOpen311Keys(main, created);
    const shown = document.getElementById('open311-new-key');
    if (shown) { shown.focus(); shown.select(); }
  });
  main.append(form);
}
