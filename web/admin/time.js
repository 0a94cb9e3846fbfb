// Times for staff: inputs are wall-clock Europe/Warsaw, the API gets ISO 8601 with the offset.
const ZONE = 'Europe/Warsaw';

function zoneParts(date) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(date);
  const out = {};
  for (const p of parts) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

function offsetMinutes(date) {
  const p = zoneParts(date);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

const pad = (n) => String(n).padStart(2, '0');

/** "2026-11-25T14:30" (Warsaw wall clock) → "2026-11-25T14:30:00+01:00"; '' → null. */
export function warsawIso(local) {
  if (!local) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (!m) return null;
  const [y, mo, d, hh, mi] = m.slice(1).map(Number);
  const guess = Date.UTC(y, mo - 1, d, hh, mi);
  let off = offsetMinutes(new Date(guess));
  off = offsetMinutes(new Date(guess - off * 60000));
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${y}-${pad(mo)}-${pad(d)}T${pad(hh)}:${pad(mi)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** An ISO time (any offset) → "YYYY-MM-DDTHH:MM" on the Warsaw wall clock, for inputs. */
export function warsawLocal(iso) {
  if (!iso) return '';
  const date = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const p = zoneParts(date);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** A readable Warsaw time for lists. */
export function showTime(iso, lang) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'pl-PL', {
    timeZone: ZONE, dateStyle: 'short', timeStyle: 'short' }).format(date);
}

export function todayWarsaw() { return warsawLocal(new Date()).slice(0, 10); }
