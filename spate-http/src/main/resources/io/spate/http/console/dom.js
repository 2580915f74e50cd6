// Small helpers shared by the console's pages: building elements (text is always set as text,
// never parsed as HTML: keys and values come from users' records), the admin API, formatting.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** A table: columns [{label, num}], rows of cells (strings, numbers or elements), optional row attributes. */
export function table(columns, rows, { id, rowAttrs, empty } = {}) {
  const head = el('thead', {}, el('tr', {}, columns.map(c => el('th', { class: c.num ? 'num' : '' }, c.label))));
  const body = el('tbody');
  rows.forEach((cells, i) => {
    const attrs = rowAttrs ? rowAttrs(i) : {};
    body.append(el('tr', attrs, cells.map((cell, j) =>
      el('td', { class: columns[j].num ? 'num' : (columns[j].cls || '') }, cell))));
  });
  if (rows.length === 0) {
    body.append(el('tr', {}, el('td', { colspan: columns.length, class: 'empty-note' }, empty || 'nothing here yet')));
  }
  return el('table', { id }, head, body);
}

export function pill(text, kind) {
  return el('span', { class: 'pill ' + (kind || String(text).toLowerCase()) }, text);
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : 'HTTP ' + status);
    this.status = status;
    this.code = body && body.error_code;
  }
}

/** Calls the node's HTTP API; JSON in and out, an {error_code, message} answer thrown as ApiError. */
export async function api(path, { method = 'GET', body } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = { message: text }; }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
export function bytes(n) {
  if (n === null || n === undefined) return '–';
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i++; }
  return (i === 0 ? Math.round(v) : v.toFixed(v < 10 ? 2 : 1)) + ' ' + UNITS[i];
}

export function count(n) {
  if (n === null || n === undefined) return '–';
  return Number(n).toLocaleString('en-US');
}

export function rate(n) {
  if (n === null || n === undefined) return '–';
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 || n === 0 ? n.toFixed(1) : String(Number(n.toFixed(2)));
}

export function ms(n) {
  if (n === null || n === undefined) return '–';
  return n >= 100 ? Math.round(n) + ' ms' : String(Number(n.toFixed(n < 1 ? 3 : 2))) + ' ms';
}

export function time(msSinceEpoch) {
  if (!msSinceEpoch || msSinceEpoch < 0) return '–';
  const d = new Date(msSinceEpoch);
  return d.toLocaleTimeString('en-GB', { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

export function message(kind, text) {
  return el('div', { class: 'msg ' + kind, role: kind === 'error' ? 'alert' : 'status' }, text);
}
