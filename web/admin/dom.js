// DOM helpers: every piece of data becomes a text node. No innerHTML anywhere in the admin page.

/** h('tag.class', {attr: value, onclick: fn}, ...children) — children: nodes, strings, arrays. */
export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value' || key === 'checked' || key === 'selected' || key === 'disabled'
               || key === 'hidden') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form control; returns {wrap, input}. */
export function field(labelText, control, hint) {
  if (!control.id) control.id = nextId('f');
  const hintEl = hint ? h('small.hint', { id: `${control.id}-hint`, text: hint }) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  const err = h('span.field-error', { id: `${control.id}-err`, role: 'status' });
  const wrap = h('div.field', {}, h('label', { for: control.id, text: labelText }), control,
    hintEl, err);
  return { wrap, input: control, error: err };
}

export function select(options, value, attrs = {}) {
  return h('select', attrs, options.map(([v, label]) =>
    h('option', { value: v, selected: v === value, text: label })));
}

/** A modal confirmation step; resolves true or false. */
export function confirmStep({ title, lines = [], confirm, cancel, danger = false }) {
  return new Promise((resolve) => {
    const titleId = nextId('dlg');
    const dlg = h('dialog.confirm', { 'aria-labelledby': titleId },
      h('h2', { id: titleId, text: title }),
      lines.map((l) => h('p', { text: l })),
      h('div.actions',
        {},
        h('button', { type: 'button', class: 'secondary', text: cancel,
          onclick: () => { dlg.close(); } }),
        h('button', { type: 'button', class: danger ? 'danger' : 'primary', 'data-confirm': '1',
          text: confirm, onclick: () => { dlg.returnValue = 'yes'; dlg.close(); } })));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'yes'); });
    document.body.appendChild(dlg);
    dlg.showModal();
  });
}
