// The Spate web console: one page per tab, routed by the URL's hash (#topics/orders), each
// refreshing its admin JSON every couple of seconds while shown; the node's request figures
// arrive once a second over /admin/stats/live (Server-Sent Events) and a topic's records over
// /topics/{t}/live. No framework, no build step, nothing fetched from elsewhere.

import { el, table, pill, api, bytes, count, rate, ms, time, message } from './dom.js';
import { lineChart, legend } from './chart.js';

const REFRESH_MS = 2000;
const page = document.getElementById('page');
const banner = document.getElementById('banner');

// ---- theme --------------------------------------------------------------------------------------
const savedTheme = localStorage.getItem('spate-theme');
if (savedTheme) document.documentElement.dataset.theme = savedTheme;
document.getElementById('theme').addEventListener('click', () => {
  const dark = document.documentElement.dataset.theme === 'dark'
    || (!document.documentElement.dataset.theme && matchMedia('(prefers-color-scheme: dark)').matches);
  const next = dark ? 'light' : 'dark';
  document.documentElement.dataset.theme = next;
  localStorage.setItem('spate-theme', next);
  rerender();
});

// ---- live request figures (one stream for every page) ---------------------------------------------
const stats = { samples: [], listeners: new Set(), source: null };
function openStats() {
  const source = new EventSource('/admin/stats/live');
  stats.source = source;
  source.onmessage = e => {
    const sample = JSON.parse(e.data);
    stats.samples.push(sample);
    if (stats.samples.length > 300) stats.samples.shift();
    const total = sample.requests_per_sec;
    document.getElementById('live-rate').textContent =
      `${rate(total)} req/s · in ${bytes(sample.bytes_in_per_sec)}/s · out ${bytes(sample.bytes_out_per_sec)}/s`;
    banner.hidden = true;
    stats.listeners.forEach(fn => fn(sample));
  };
  source.onerror = () => {
    banner.textContent = 'Lost the connection to this node; retrying…';
    banner.hidden = false;
  };
}
openStats();

function apiSeries(api, field, name, color) {
  return { name, color, points: stats.samples.map(s => [s.time_ms, s.apis[api] ? s.apis[api][field] : 0]) };
}

// ---- router ----------------------------------------------------------------------------------------
const pages = { cluster: clusterPage, topics: topicsPage, groups: groupsPage, messages: messagesPage, pipelines: pipelinesPage, tables: tablesPage, stats: statsPage };
let cleanup = () => {};

function route() {
  const [tab, ...rest] = (location.hash.replace(/^#/, '') || 'cluster').split('/');
  const arg = rest.length ? decodeURIComponent(rest.join('/')) : null;
  const render = pages[tab] || clusterPage;
  document.querySelectorAll('#tabs a').forEach(a => a.classList.toggle('active', a.dataset.tab === (pages[tab] ? tab : 'cluster')));
  cleanup();
  page.replaceChildren();
  cleanup = render(arg) || (() => {});
}
function rerender() { route(); }
window.addEventListener('hashchange', route);

/** Runs `load` now and every REFRESH_MS while the page is shown; returns the stop function. */
function every(load, periodMs = REFRESH_MS) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    try { await load(); } catch (e) { console.warn(e); }
    if (!stopped) timer = setTimeout(tick, periodMs);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}

function showError(host, e) {
  host.replaceChildren(message('error', e.message || String(e)));
}

// ---- Cluster -----------------------------------------------------------------------------------------
let self = null;
function clusterPage() {
  const cards = el('div', { class: 'cards', id: 'cluster-cards' });
  const nodes = el('div', { id: 'nodes-host' });
  const charts = el('div', { class: 'grid2' });
  page.append(el('h2', {}, 'Cluster'), cards, el('h3', {}, 'Nodes'), nodes, el('h3', {}, 'This node, last 2 minutes'), charts);
  const rateBox = el('div', { class: 'panel' });
  const latencyBox = el('div', { class: 'panel' });
  charts.append(rateBox, latencyBox);
  const drawCharts = () => {
    drawRateChart(rateBox, 'Produce and Fetch requests/s');
    drawLatencyChart(latencyBox, 'Produce latency p50 / p99');
  };
  drawCharts();
  stats.listeners.add(drawCharts);
  const stop = every(async () => {
    let c;
    try { c = await api('/admin/cluster'); } catch (e) { showError(nodes, e); return; }
    self = c;
    const live = c.nodes.filter(n => n.live).length;
    cards.replaceChildren(
      card('Cluster id', c.cluster_id || '–'),
      card('Controller', c.controller_id >= 0 ? 'node ' + c.controller_id : 'none'),
      card('Nodes up', `${live} / ${c.nodes.length}`, live < c.nodes.length ? 'bad' : ''),
      card('This node', 'node ' + c.node_id + (c.rack ? ' · rack ' + c.rack : '')),
      card('Metadata version', count(c.metadata_version)));
    nodes.replaceChildren(table(
      [{ label: 'Node' }, { label: 'Address' }, { label: 'Rack' }, { label: 'Status' }, { label: 'Roles' }, { label: 'Partitions led', num: true }],
      c.nodes.map(n => [
        String(n.id),
        el('span', { class: 'mono' }, n.host ? `${n.host}:${n.port >= 0 ? n.port : '?'}` : '–'),
        n.rack || (n.self ? '–' : el('span', { class: 'muted', title: 'racks of other nodes are not in the cluster metadata' }, 'n/a')),
        el('span', { class: 'status' }, n.live ? pill('up') : pill(n.registered ? 'down' : 'never started', 'down')),
        el('span', {}, n.controller ? pill('controller', 'role') : null, n.voter ? pill('voter', 'role') : null, n.self ? pill('this node', 'role') : null),
        count(n.leader_of)]),
      { id: 'nodes', rowAttrs: i => ({ 'data-node': c.nodes[i].id, 'data-live': String(c.nodes[i].live) }) }));
    document.getElementById('whoami').textContent = `node ${c.node_id}` + (c.holds_lease ? '' : ' (no leader lease)');
  }, 1000);
  return () => { stop(); stats.listeners.delete(drawCharts); };
}

function card(label, value, kind) {
  return el('div', { class: 'card' }, el('div', { class: 'label' }, label), el('div', { class: 'value' + (kind ? ' ' + kind : '') }, value));
}

// ---- Topics ------------------------------------------------------------------------------------------
function topicsPage(topic) {
  if (topic) return topicPage(topic);
  const showInternal = el('input', { type: 'checkbox', id: 'show-internal' });
  const list = el('div', { id: 'topics-host' });
  const feedback = el('div');
  const form = createTopicForm(feedback, () => load());
  page.append(
    el('div', { class: 'bar' }, el('h2', {}, 'Topics'), el('span', { class: 'grow' }),
      el('label', { class: 'muted' }, showInternal, ' show internal topics')),
    el('div', { class: 'panel' }, form, feedback), list);
  showInternal.addEventListener('change', () => load());
  async function load() {
    let topics;
    try { topics = await api('/admin/topics?internal=' + showInternal.checked); } catch (e) { showError(list, e); return; }
    list.replaceChildren(table(
      [{ label: 'Topic' }, { label: 'Partitions', num: true }, { label: 'Replicas', num: true }, { label: 'Records', num: true },
        { label: 'Size', num: true }, { label: 'Health' }],
      topics.map(t => [
        el('a', { href: '#topics/' + encodeURIComponent(t.name) }, t.name),
        String(t.partitions), String(t.replication_factor), count(t.records), bytes(t.size_bytes),
        t.offline ? pill(`${t.offline} offline`, 'bad') : t.under_replicated ? pill(`${t.under_replicated} under-replicated`, 'warn') : pill('ok')]),
      { id: 'topics-table', rowAttrs: i => ({ 'data-topic': topics[i].name }), empty: 'no topics yet' }));
  }
  return every(load);
}

function createTopicForm(feedback, done) {
  const name = el('input', { name: 'name', placeholder: 'orders', required: true, size: 18 });
  const partitions = el('input', { name: 'partitions', type: 'number', min: 1, value: 3, style: 'width:80px' });
  const rf = el('input', { name: 'replication_factor', type: 'number', min: 1, placeholder: 'default', style: 'width:90px' });
  const configs = el('input', { name: 'configs', placeholder: 'retention.ms=86400000, cleanup.policy=delete', size: 42 });
  const form = el('form', { class: 'inline', id: 'create-topic' },
    el('label', {}, 'New topic', name), el('label', {}, 'Partitions', partitions), el('label', {}, 'Replication', rf),
    el('label', {}, 'Configs (name=value, …)', configs), el('button', { class: 'primary', type: 'submit' }, 'Create topic'));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const body = { name: name.value.trim(), partitions: Number(partitions.value) };
    if (rf.value) body.replication_factor = Number(rf.value);
    const cfg = {};
    for (const pair of configs.value.split(',').map(s => s.trim()).filter(Boolean)) {
      const at = pair.indexOf('=');
      if (at < 1) { feedback.replaceChildren(message('error', `"${pair}" is not name=value`)); return; }
      cfg[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
    }
    body.configs = cfg;
    try {
      await api('/admin/topics', { method: 'POST', body });
      feedback.replaceChildren(message('ok', `created ${body.name}`));
      name.value = '';
      configs.value = '';
      done();
    } catch (err) {
      feedback.replaceChildren(message('error', err.message));
    }
  });
  return form;
}

function topicPage(topic) {
  const feedback = el('div');
  const partitions = el('div', { id: 'partitions-host' });
  const configs = el('div', { id: 'configs-host' });
  const showDefaults = el('input', { type: 'checkbox' });
  const del = el('button', { class: 'danger', id: 'delete-topic', type: 'button' }, 'Delete topic');
  let armed = false;
  del.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      del.classList.add('armed');
      del.textContent = `Really delete ${topic}?`;
      setTimeout(() => { armed = false; del.classList.remove('armed'); del.textContent = 'Delete topic'; }, 5000);
      return;
    }
    try {
      await api('/admin/topics/' + encodeURIComponent(topic), { method: 'DELETE' });
      location.hash = '#topics';
    } catch (e) { feedback.replaceChildren(message('error', e.message)); }
  });
  const cfgName = el('input', { name: 'config-name', placeholder: 'retention.ms', size: 22 });
  const cfgValue = el('input', { name: 'config-value', placeholder: 'value', size: 18 });
  const alter = el('form', { class: 'inline', id: 'alter-config' }, el('label', {}, 'Config', cfgName), el('label', {}, 'Value', cfgValue),
    el('button', { type: 'submit', class: 'primary' }, 'Set'));
  alter.addEventListener('submit', async e => {
    e.preventDefault();
    try {
      await api(`/admin/topics/${encodeURIComponent(topic)}/configs`, { method: 'PATCH', body: { set: { [cfgName.value.trim()]: cfgValue.value } } });
      feedback.replaceChildren(message('ok', `set ${cfgName.value.trim()}=${cfgValue.value}`));
      load();
    } catch (err) { feedback.replaceChildren(message('error', err.message)); }
  });
  page.append(
    el('div', { class: 'bar' }, el('a', { href: '#topics' }, '← Topics'), el('h2', { id: 'topic-name' }, topic), el('span', { class: 'grow' }),
      el('a', { href: '#messages/' + encodeURIComponent(topic) }, 'Tail messages'), del),
    feedback, el('h3', {}, 'Partitions'), partitions,
    el('div', { class: 'bar' }, el('h3', {}, 'Configs'), el('span', { class: 'grow' }), el('label', { class: 'muted' }, showDefaults, ' show defaults')),
    el('div', { class: 'panel' }, alter), configs);
  let last = null;
  showDefaults.addEventListener('change', () => last && drawConfigs(last));
  function drawConfigs(t) {
    const shown = t.configs.filter(c => showDefaults.checked || !c.default);
    configs.replaceChildren(table([{ label: 'Name' }, { label: 'Value' }, { label: 'Source' }, { label: '' }],
      shown.map(c => [el('span', { class: 'mono' }, c.name), el('span', { class: 'mono' }, c.value === null ? '(hidden)' : c.value), c.source,
        c.default || c.read_only ? '' : el('button', { type: 'button', onclick: async () => {
          try {
            await api(`/admin/topics/${encodeURIComponent(topic)}/configs`, { method: 'PATCH', body: { delete: [c.name] } });
            load();
          } catch (err) { feedback.replaceChildren(message('error', err.message)); }
        } }, 'reset')]),
      { id: 'configs', rowAttrs: i => ({ 'data-config': shown[i].name }), empty: 'only defaults (tick "show defaults")' }));
  }
  async function load() {
    let t;
    try { t = await api('/admin/topics/' + encodeURIComponent(topic)); } catch (e) { showError(partitions, e); return; }
    last = t;
    partitions.replaceChildren(el('div', { class: 'table-scroll' }, table(
      [{ label: 'Partition', num: true }, { label: 'Leader', num: true }, { label: 'Replicas' }, { label: 'In sync' },
        { label: 'Log start', num: true }, { label: 'Log end', num: true }, { label: 'Records', num: true }, { label: 'Size', num: true }],
      t.partitions.map(p => [String(p.partition), p.leader >= 0 ? String(p.leader) : pill('none', 'bad'),
        (p.replicas || []).join(', '),
        el('span', {}, (p.isr || []).join(', '), p.under_replicated ? ' ' : null,
          p.under_replicated ? pill('under-replicated', 'warn') : null),
        count(p.log_start_offset), count(p.log_end_offset), count(p.records), bytes(p.size_bytes)]),
      { id: 'partitions', rowAttrs: i => ({ 'data-partition': t.partitions[i].partition }) })));
    drawConfigs(t);
  }
  return every(load, 3000);
}

// ---- Groups ------------------------------------------------------------------------------------------
const lagHistory = new Map(); // group -> [[timeMs, lag]]
function remember(group, lag) {
  const h = lagHistory.get(group) || [];
  h.push([Date.now(), lag]);
  while (h.length > 200) h.shift();
  lagHistory.set(group, h);
}

function groupsPage(group) {
  if (group) return groupPage(group);
  const list = el('div', { id: 'groups-host' });
  page.append(el('h2', {}, 'Consumer groups'), list);
  return every(async () => {
    let groups;
    try { groups = await api('/admin/groups'); } catch (e) { showError(list, e); return; }
    groups.forEach(g => remember(g.group_id, g.lag));
    list.replaceChildren(table(
      [{ label: 'Group' }, { label: 'State' }, { label: 'Members', num: true }, { label: 'Topics' }, { label: 'Lag', num: true }, { label: 'Coordinator', num: true }],
      groups.map(g => [el('a', { href: '#groups/' + encodeURIComponent(g.group_id) }, g.group_id), pill(g.state),
        String(g.members), g.topics.join(', '), el('span', { class: 'lag' }, count(g.lag)), String(g.coordinator)]),
      { id: 'groups-table', rowAttrs: i => ({ 'data-group': groups[i].group_id }), empty: 'no consumer groups yet' }));
  });
}

function groupPage(group) {
  const summary = el('div', { class: 'cards' });
  const chart = el('div', { id: 'group-lag-chart' });
  const offsets = el('div', { id: 'group-offsets-host' });
  const members = el('div', { id: 'group-members-host' });
  page.append(el('div', { class: 'bar' }, el('a', { href: '#groups' }, '← Groups'), el('h2', {}, group)), summary,
    el('div', { class: 'panel' }, el('div', { class: 'chart-title' }, 'Total lag (records)'), chart),
    el('h3', {}, 'Lag per partition'), offsets, el('h3', {}, 'Members'), members);
  return every(async () => {
    let g;
    try { g = await api('/admin/groups/' + encodeURIComponent(group)); } catch (e) { showError(offsets, e); return; }
    remember(group, g.lag);
    summary.replaceChildren(card('State', pill(g.state)), card('Members', String(g.members.length)),
      el('div', { class: 'card' }, el('div', { class: 'label' }, 'Total lag'), el('div', { class: 'value', id: 'group-lag-total' }, count(g.lag))),
      card('Coordinator', 'node ' + g.coordinator), card('Assignor', g.assignor || '–'));
    lineChart(chart, { series: [{ name: 'lag', color: 'var(--c2)', points: lagHistory.get(group) }], format: v => count(Math.round(v)), windowS: 120 });
    offsets.replaceChildren(el('div', { class: 'table-scroll' }, table(
      [{ label: 'Topic' }, { label: 'Partition', num: true }, { label: 'Committed', num: true }, { label: 'Log end', num: true },
        { label: 'Lag', num: true }, { label: 'Member' }],
      g.offsets.map(o => [o.topic, String(o.partition), count(o.committed), count(o.log_end_offset),
        el('span', { class: 'lag' }, count(o.lag)), o.client_id ? el('span', { class: 'mono', title: o.member_id }, o.client_id) : '–']),
      { id: 'group-offsets', rowAttrs: i => ({ 'data-partition': g.offsets[i].topic + '-' + g.offsets[i].partition }) })));
    members.replaceChildren(table([{ label: 'Client' }, { label: 'Host' }, { label: 'Member id' }, { label: 'Partitions' }],
      g.members.map(m => [m.client_id, m.host, el('span', { class: 'mono' }, m.member_id), m.partitions.join(', ')]),
      { id: 'group-members', empty: 'no members: nobody consumes now' }));
  });
}

// ---- Messages ----------------------------------------------------------------------------------------
function messagesPage(topic) {
  const select = el('select', { id: 'tail-topic' });
  const from = el('select', { id: 'tail-from' }, el('option', { value: 'end' }, 'new records'), el('option', { value: 'beginning' }, 'from the beginning'));
  const start = el('button', { class: 'primary', type: 'button', id: 'tail-start' }, 'Tail');
  const stopBtn = el('button', { type: 'button', id: 'tail-stop', disabled: true }, 'Stop');
  const status = el('span', { class: 'muted', id: 'tail-count' });
  const rows = el('tbody');
  const MAX_ROWS = 300;
  let source = null;
  let received = 0;
  page.append(el('div', { class: 'bar' }, el('h2', {}, 'Message browser'), el('span', { class: 'grow' })),
    el('div', { class: 'panel bar' }, el('label', {}, 'Topic ', select), el('label', {}, 'Show ', from), start, stopBtn, status),
    el('div', { class: 'table-scroll', style: 'max-height: 560px' }, el('table', { id: 'tail-table' },
      el('thead', {}, el('tr', {}, ['Partition', 'Offset', 'Time', 'Key', 'Value', 'Headers'].map((h, i) => el('th', { class: i < 2 ? 'num' : '' }, h)))),
      rows)));
  api('/topics').then(topics => {
    select.replaceChildren(...topics.map(t => el('option', { value: t.name }, t.name)));
    if (topic) select.value = topic;
    if (topic && select.value === topic) begin();
  }).catch(e => status.textContent = e.message);
  function end() {
    if (source) source.close();
    source = null;
    start.disabled = false;
    stopBtn.disabled = true;
  }
  function begin() {
    end();
    received = 0;
    rows.replaceChildren();
    const t = select.value;
    if (!t) return;
    status.textContent = `tailing ${t}…`;
    source = new EventSource(`/topics/${encodeURIComponent(t)}/live?from=${from.value}`);
    start.disabled = true;
    stopBtn.disabled = false;
    source.onmessage = e => {
      const r = JSON.parse(e.data);
      received++;
      rows.prepend(el('tr', { 'data-offset': `${r.partition}:${r.offset}` },
        el('td', { class: 'num' }, String(r.partition)), el('td', { class: 'num' }, String(r.offset)),
        el('td', { class: 'mono' }, time(r.timestamp)),
        el('td', { class: 'mono wrap' }, r.key === null ? el('span', { class: 'muted' }, 'null') : r.key),
        el('td', { class: 'mono wrap' }, r.value === null ? el('span', { class: 'muted' }, 'null') : r.value),
        el('td', { class: 'mono wrap' }, r.headers && Object.keys(r.headers).length ? JSON.stringify(r.headers) : '')));
      while (rows.children.length > MAX_ROWS) rows.lastChild.remove();
      status.textContent = `${count(received)} records from ${t}` + (received > MAX_ROWS ? ` (newest ${MAX_ROWS} shown)` : '');
    };
    source.onerror = () => { status.textContent = `stream of ${t} interrupted; reconnecting…`; };
  }
  start.addEventListener('click', () => {
    if (select.value && location.hash !== '#messages/' + encodeURIComponent(select.value)) {
      history.replaceState(null, '', '#messages/' + encodeURIComponent(select.value));
    }
    begin();
  });
  stopBtn.addEventListener('click', () => { end(); status.textContent += ' (stopped)'; });
  return end;
}

// ---- Pipelines -----------------------------------------------------------------------------------------
function pipelinesPage() {
  const host = el('div', { id: 'pipelines-host' });
  page.append(el('h2', {}, 'Pipelines'), host);
  return every(async () => {
    let pipelines;
    try { pipelines = await api('/admin/pipelines'); } catch (e) { showError(host, e); return; }
    if (pipelines.length === 0) {
      host.replaceChildren(el('div', { class: 'panel empty-note', id: 'no-pipelines' }, 'No pipelines deployed. Deploy one with ',
        el('code', {}, 'spate pipeline deploy'), '.'));
      return;
    }
    host.replaceChildren(...pipelines.map(p => el('div', { class: 'panel', 'data-pipeline': p.name },
      el('div', { class: 'bar' }, el('strong', {}, p.name), p.paused ? pill('paused') : pill('running'),
        el('span', { class: 'muted' }, `generation ${p.generation} · ${p.source} ${p.class}`)),
      table([{ label: 'Sub-topology', num: true }, { label: 'Partition', num: true }, { label: 'Node', num: true }, { label: 'State' },
        { label: 'Processed', num: true }, { label: 'Records/s', num: true }, { label: 'Input lag', num: true },
        { label: 'p50', num: true }, { label: 'p99', num: true }, { label: 'Restores', num: true }, { label: 'Report age' }],
      p.tasks.map(t => [String(t.sub_topology), String(t.partition), String(t.node), el('span', { title: t.error || '' }, pill(t.state)),
        count(t.records_processed), rate(t.records_per_second), count(t.input_lag), ms(t.latency_p50_ms), ms(t.latency_p99_ms),
        String(t.restores), Math.max(0, Math.round((Date.now() - t.reported_at_ms) / 1000)) + ' s']),
      { empty: 'no task has reported yet' }))));
  }, 3000);
}

// ---- Tables ----------------------------------------------------------------------------------------------
// The catalog's tables with their settings, and this node's table figures: the counters since the
// node started, requests/s per consistency from the difference between two refreshes.
const tableRates = []; // [timeMs, {consistency: requests/s}]
let lastTableCounts = null;
function tablesPage() {
  const cards = el('div', { class: 'cards', id: 'table-cards' });
  const list = el('div', { id: 'tables-host' });
  const requests = el('div', { id: 'table-requests-host' });
  const chartBox = el('div', { class: 'panel' });
  const chart = el('div', { class: 'chart-host', id: 'chart-table-rate' });
  page.append(el('div', { class: 'bar' }, el('h2', {}, 'Tables'), el('span', { class: 'muted' }, 'masterless, replicated; figures of this node')),
    list, el('h3', {}, 'This node'), cards, chartBox, el('h3', {}, 'Requests this node coordinated, per consistency'), requests);
  const series = [['one', 'var(--c1)'], ['quorum', 'var(--c2)'], ['all', 'var(--c3)']];
  const drawChart = () => {
    const s = series.map(([c, color]) => ({ name: c.toUpperCase(), color, points: tableRates.map(([t, r]) => [t, r[c] || 0]) }));
    chartBox.replaceChildren(el('div', { class: 'chart-title' }, 'Table requests/s (reads and writes)', ...legend(s)), chart);
    lineChart(chart, { series: s, format: v => rate(v) });
  };
  drawChart();
  return every(async () => {
    let t;
    try { t = await api('/admin/tables'); } catch (e) { showError(list, e); return; }
    list.replaceChildren(table(
      [{ label: 'Table' }, { label: 'Replication', num: true }, { label: 'Write (W)' }, { label: 'Read (R)' }, { label: 'Durability' },
        { label: 'Quorum' }, { label: 'Tombstone grace' }, { label: 'Here' }],
      t.tables.map(x => [el('span', { class: 'mono' }, x.name), String(x.replication_factor), x.write_consistency, x.read_consistency,
        el('span', { class: 'mono' }, x.durability), x.sloppy_quorum ? 'sloppy' : 'strict', duration(x.tombstone_grace_ms),
        x.served_here ? pill('served') : pill('opening', 'warn')]),
      { id: 'tables-table', rowAttrs: i => ({ 'data-table': t.tables[i].name }),
        empty: t.available ? 'no tables yet: create one with spate table create' : 'no tables on this node' }));
    const n = t.node;
    if (!n) {
      cards.replaceChildren(message('error', 'no table figures: ' + (t.reason || 'unavailable')));
      return;
    }
    const ae = n.anti_entropy_keys_pushed + n.anti_entropy_keys_pulled;
    cards.replaceChildren(
      figure('hints-pending', 'Hints pending', count(n.hints_pending), n.hints_pending > 0 ? 'warn' : ''),
      figure('hints-sent', 'Hints delivered', count(n.hints_sent)),
      figure('read-repairs', 'Read repairs', count(n.read_repairs_blocking + n.read_repairs_background), '',
        `${count(n.read_repairs_blocking)} blocking, ${count(n.read_repairs_background)} background; ${count(n.keys_read_repaired)} keys`),
      figure('read-repair-rate', 'Read-repair rate', (100 * n.read_repair_rate).toFixed(2) + ' %', '', 'reads that repaired a replica before answering'),
      figure('ae-sessions', 'Anti-entropy sessions', count(n.anti_entropy_sessions), '',
        `${count(n.anti_entropy_in_sync)} in sync, ${count(n.anti_entropy_abandoned)} abandoned`),
      figure('ae-keys', 'Keys repaired by anti-entropy', count(ae), '', `${count(n.anti_entropy_keys_pushed)} pushed, ${count(n.anti_entropy_keys_pulled)} pulled`),
      figure('table-failures', 'Timeouts / unavailable', `${count(n.write_timeouts + n.read_timeouts)} / ${count(n.writes_unavailable + n.reads_unavailable)}`,
        n.write_timeouts + n.read_timeouts + n.writes_unavailable + n.reads_unavailable > 0 ? 'warn' : ''),
      figure('tombstones', 'Tombstones collected', count(n.tombstones_collected)));
    const now = Date.now();
    const perLevel = {};
    n.requests.forEach(r => { perLevel[r.consistency] = (perLevel[r.consistency] || 0) + r.count; });
    if (lastTableCounts && now > lastTableCounts.at) {
      const r = {};
      for (const [c, v] of Object.entries(perLevel)) r[c] = Math.max(0, v - (lastTableCounts.counts[c] || 0)) * 1000 / (now - lastTableCounts.at);
      tableRates.push([now, r]);
      while (tableRates.length > 200) tableRates.shift();
    }
    lastTableCounts = { at: now, counts: perLevel };
    drawChart();
    requests.replaceChildren(table(
      [{ label: 'Operation' }, { label: 'Consistency' }, { label: 'Requests', num: true }, { label: 'Mean', num: true }, { label: 'Max', num: true }],
      n.requests.map(r => [r.op, r.consistency.toUpperCase(), count(r.count), r.count ? ms(r.mean_ms) : '–', r.count ? ms(r.max_ms) : '–']),
      { id: 'table-requests', rowAttrs: i => ({ 'data-request': n.requests[i].op + '-' + n.requests[i].consistency }) }));
  });
}

function figure(id, label, value, kind, detail) {
  return el('div', { class: 'card', id: 'figure-' + id }, el('div', { class: 'label' }, label),
    el('div', { class: 'value' + (kind ? ' ' + kind : '') }, value), detail ? el('div', { class: 'muted small' }, detail) : null);
}

function duration(msValue) {
  const h = msValue / 3_600_000;
  return h >= 48 ? `${Number((h / 24).toFixed(1))} days` : h >= 1 ? `${Number(h.toFixed(1))} h` : `${Math.round(msValue / 1000)} s`;
}

// ---- Live stats ------------------------------------------------------------------------------------------
function drawRateChart(box, title) {
  const series = [apiSeries('Produce', 'requests_per_sec', 'Produce', 'var(--c1)'), apiSeries('Fetch', 'requests_per_sec', 'Fetch', 'var(--c2)')];
  const chart = box.querySelector('.chart-host') || el('div', { class: 'chart-host', id: 'chart-rate' });
  box.replaceChildren(el('div', { class: 'chart-title' }, title, ...legend(series)), chart);
  lineChart(chart, { series, format: v => rate(v) });
}

function drawLatencyChart(box, title, apiName = 'Produce', id = 'chart-latency') {
  const series = [apiSeries(apiName, 'p50_ms', 'p50', 'var(--c3)'), apiSeries(apiName, 'p99_ms', 'p99', 'var(--c4)')];
  const chart = box.querySelector('.chart-host') || el('div', { class: 'chart-host', id });
  box.replaceChildren(el('div', { class: 'chart-title' }, title, ...legend(series)), chart);
  lineChart(chart, { series, format: v => ms(v) });
}

function statsPage() {
  const rateBox = el('div', { class: 'panel' });
  const produceLatency = el('div', { class: 'panel' });
  const fetchLatency = el('div', { class: 'panel' });
  const bytesBox = el('div', { class: 'panel' });
  const apis = el('div', { id: 'apis-host' });
  page.append(el('div', { class: 'bar' }, el('h2', {}, 'Live stats'), el('span', { class: 'muted' }, 'this node, one sample a second')),
    el('div', { class: 'grid2' }, rateBox, bytesBox, produceLatency, fetchLatency), el('h3', {}, 'Last second, per Kafka API'), apis);
  const draw = () => {
    drawRateChart(rateBox, 'Requests/s');
    drawLatencyChart(produceLatency, 'Produce latency', 'Produce', 'chart-latency');
    drawLatencyChart(fetchLatency, 'Fetch latency (includes the fetch wait)', 'Fetch', 'chart-fetch-latency');
    const series = [{ name: 'in', color: 'var(--c1)', points: stats.samples.map(s => [s.time_ms, s.bytes_in_per_sec]) },
      { name: 'out', color: 'var(--c2)', points: stats.samples.map(s => [s.time_ms, s.bytes_out_per_sec]) }];
    const chart = bytesBox.querySelector('.chart-host') || el('div', { class: 'chart-host', id: 'chart-bytes' });
    bytesBox.replaceChildren(el('div', { class: 'chart-title' }, 'Bytes/s', ...legend(series)), chart);
    lineChart(chart, { series, format: v => bytes(v) });
    const last = stats.samples[stats.samples.length - 1];
    const entries = last ? Object.entries(last.apis).sort((a, b) => b[1].requests_per_sec - a[1].requests_per_sec) : [];
    apis.replaceChildren(table([{ label: 'API' }, { label: 'Requests/s', num: true }, { label: 'p50', num: true }, { label: 'p99', num: true },
      { label: 'max', num: true }, { label: 'In/s', num: true }, { label: 'Out/s', num: true }],
    entries.map(([name, a]) => [name, rate(a.requests_per_sec), ms(a.p50_ms), ms(a.p99_ms), ms(a.max_ms), bytes(a.bytes_in_per_sec),
      bytes(a.bytes_out_per_sec)]), { id: 'apis', rowAttrs: i => ({ 'data-api': entries[i][0] }), empty: 'no Kafka requests in the last second' }));
  };
  draw();
  stats.listeners.add(draw);
  return () => stats.listeners.delete(draw);
}

route();
