// A line chart in inline SVG: time on x (the last `windowS` seconds up to now), one or more series
// on y from zero to a rounded maximum. Redrawn whole on each update (a few hundred points).

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const exp = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (v <= m * exp) return m * exp;
  }
  return 10 * exp;
}

/**
 * Draws into `host` (an element; its SVG is replaced).
 * series: [{name, color, points: [[timeMs, value], ...]}]; format: a value's label.
 */
export function lineChart(host, { series, format = v => String(v), windowS = 120, now = Date.now() }) {
  const width = Math.max(300, host.clientWidth || 600);
  const height = 190;
  const left = 64, right = 10, top = 8, bottom = 22;
  const w = width - left - right;
  const h = height - top - bottom;
  const from = now - windowS * 1000;
  let max = 0;
  for (const s of series) for (const [t, v] of s.points) if (t >= from && v > max) max = v;
  max = niceMax(max);
  const root = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img' });
  for (let i = 0; i <= 4; i++) {
    const y = top + h - (h * i) / 4;
    root.append(svg('line', { class: 'grid', x1: left, x2: left + w, y1: y, y2: y }));
    const label = svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end' });
    label.textContent = format((max * i) / 4);
    root.append(label);
  }
  for (let s = 0; s <= windowS; s += windowS / 4) {
    const x = left + (w * s) / windowS;
    const label = svg('text', { x, y: height - 6, 'text-anchor': s === 0 ? 'start' : s === windowS ? 'end' : 'middle' });
    label.textContent = s === windowS ? 'now' : `-${Math.round(windowS - s)}s`;
    root.append(label);
  }
  for (const s of series) {
    const pts = s.points.filter(([t]) => t >= from);
    if (pts.length === 0) continue;
    const d = pts.map(([t, v], i) => {
      const x = left + (w * (t - from)) / (windowS * 1000);
      const y = top + h - (h * Math.min(v, max)) / max;
      return (i === 0 ? 'M' : 'L') + x.toFixed(1) + ',' + y.toFixed(1);
    }).join(' ');
    root.append(svg('path', { class: 'series', d, style: `stroke: ${s.color}`, 'data-series': s.name }));
  }
  host.replaceChildren(root);
}

/** The legend of a chart's series, as inline elements. */
export function legend(series) {
  return series.map(s => {
    const item = document.createElement('span');
    item.className = 'legend';
    const swatch = document.createElement('i');
    swatch.style.background = s.color;
    item.append(swatch, document.createTextNode(s.name));
    return item;
  });
}
