// Renders /dev/outbox.json newest first; all text is set as text, never as HTML.
async function refresh() {
  const res = await fetch('/dev/outbox.json', {cache: 'no-store'});
  const items = (await res.json()).reverse();
  const body = document.getElementById('rows');
  body.replaceChildren(...items.map((d) => {
    const tr = document.createElement('tr');
    for (const [value, cls] of [[d.at], [d.channel, d.channel], [d.to], [d.text, 'text']]) {
      const td = document.createElement('td');
      td.textContent = value;
      if (cls) td.className = cls;
      tr.append(td);
    }
    return tr;
  }));
}
refresh();
setInterval(refresh, 2000);
