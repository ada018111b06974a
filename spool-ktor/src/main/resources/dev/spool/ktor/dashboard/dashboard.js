// The Spool dashboard: a static page on the JSON routes of the spool-ktor plugin. No build step,
// no libraries. Every value from the server reaches the page through textContent, never as HTML.
'use strict';

(function () {
  const base = document.querySelector('meta[name="spool-base"]').content;
  const api = base + '/api';
  const pollMs = Math.max(250, parseInt(document.querySelector('meta[name="spool-poll-ms"]').content, 10) || 2000);
  const STATES = ['QUEUED', 'LEASED', 'SUCCEEDED', 'DEAD_LETTER', 'CANCELLED'];

  const state = {
    queues: [], adminEnabled: false, readsProtected: false,
    selected: null,          // {name, kind}
    cursors: [null],         // cursor of each page visited; the last is the current page
    nextCursor: null,
    eventCursors: [null],    // the same for an offline queue's pending events
    eventNextCursor: null,
    detailId: null,
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') node.className = v; else if (k.startsWith('data-')) node.setAttribute(k, v); else node[k] = v;
    }
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(child === null || child === undefined ? '' : String(child)));
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function token() { return sessionStorage.getItem('spool-token') || ''; }

  class ApiFailure extends Error {
    constructor(status, body) { super((body && body.message) || ('HTTP ' + status)); this.status = status; this.body = body; }
  }

  async function call(method, path) {
    const headers = { 'Accept': 'application/json' };
    if (token()) headers['Authorization'] = 'Bearer ' + token();
    const response = await fetch(api + path, { method, headers, cache: 'no-store' });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiFailure(response.status, body);
    return body;
  }

  const get = (path) => call('GET', path);
  const q = (name) => encodeURIComponent(name);
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
  const age = (ms) => (ms === null || ms === undefined ? '–' : ms < 120000 ? Math.round(ms / 1000) + ' s' : ms < 7200000 ? Math.round(ms / 60000) + ' min' : Math.round(ms / 3600000) + ' h');

  function fill(tbody, rows, columns) {
    tbody.replaceChildren();
    if (rows.length === 0) tbody.append(el('tr', {}, el('td', { class: 'empty', colSpan: columns }, 'none')));
    for (const row of rows) tbody.append(row);
  }

  function say(text, ok) {
    const box = $('action-message');
    box.textContent = text;
    box.className = ok ? 'ok' : '';
    box.hidden = false;
  }

  function setStatus(text) { $('status').textContent = text; }

  // ---- Queues and the live overview ----

  function renderQueueTabs() {
    const nav = $('queues');
    nav.replaceChildren();
    for (const queue of state.queues) {
      const button = el('button', { type: 'button', 'data-queue': queue.name, 'data-kind': queue.kind }, queue.name + (queue.kind === 'offline' ? ' (events)' : ' (tasks)'));
      button.setAttribute('aria-current', String(state.selected && state.selected.name === queue.name));
      button.addEventListener('click', () => select(queue));
      nav.append(button);
    }
  }

  function count(id, label, value) {
    return el('div', { class: 'count' }, el('b', { id, 'data-count': label }, value), el('span', {}, label));
  }

  function renderOverview(overview) {
    const root = $('overview');
    root.replaceChildren();
    for (const queue of overview.tasks) {
      const counts = STATES.map((s) => count('count-' + queue.name + '-' + s, s, queue.byState[s] ?? 0));
      counts.push(count('count-' + queue.name + '-workers', 'workers', queue.activeWorkers));
      root.append(el('div', { class: 'card', 'data-queue': queue.name }, el('h3', {}, queue.name), el('div', { class: 'counts' }, ...counts)));
    }
    for (const queue of overview.offline) {
      root.append(el('div', { class: 'card', 'data-queue': queue.name }, el('h3', {}, queue.name),
        el('div', { class: 'counts' }, count('count-' + queue.name + '-size', 'pending', queue.size), count('count-' + queue.name + '-max', 'max', queue.maxQueueSize),
          count('count-' + queue.name + '-oldest', 'oldest', age(queue.oldestEventAgeMs)))));
    }
  }

  // ---- Task queue views ----

  function taskRow(task) {
    const row = el('tr', { 'data-task-id': task.id },
      el('td', {}, task.id), el('td', {}, task.type), el('td', { class: 'state-' + task.state }, task.state),
      el('td', {}, task.attempts + '/' + task.maxAttempts), el('td', {}, task.priority),
      el('td', {}, leaseText(task)), el('td', {}, time(task.updatedAt)));
    row.addEventListener('click', () => { state.detailId = task.id; refreshDetail(); });
    return row;
  }

  function leaseText(task) {
    if (!task.lease) return '';
    return task.lease.workerId + ' #' + task.lease.token + ' until ' + time(task.leaseExpiresAt);
  }

  function filterQuery() {
    const params = new URLSearchParams();
    const s = $('filter-state').value; if (s) params.set('state', s);
    const t = $('filter-type').value.trim(); if (t) params.set('type', t);
    params.set('limit', $('page-size').value);
    const cursor = state.cursors[state.cursors.length - 1]; if (cursor) params.set('cursor', cursor);
    return params.toString();
  }

  async function refreshTasks() {
    const page = await get('/tasks/' + q(state.selected.name) + '/tasks?' + filterQuery());
    fill($('tasks').tBodies[0], page.tasks.map(taskRow), 7);
    state.nextCursor = page.nextCursor;
    $('next').disabled = !page.nextCursor;
    $('prev').disabled = state.cursors.length <= 1;
    $('page-no').textContent = 'page ' + state.cursors.length;
  }

  async function refreshDead() {
    const page = await get('/tasks/' + q(state.selected.name) + '/dead-letters?limit=25');
    fill($('dead').tBodies[0], page.tasks.map((task) => {
      const button = el('button', { type: 'button', class: 'requeue admin', 'data-task-id': task.id, hidden: !state.adminEnabled }, 'Requeue');
      button.addEventListener('click', (e) => { e.stopPropagation(); act('requeue', task.id); });
      const row = el('tr', { 'data-task-id': task.id }, el('td', {}, task.id), el('td', {}, task.type),
        el('td', {}, task.attempts + '/' + task.maxAttempts), el('td', {}, task.lastError), el('td', {}, time(task.updatedAt)), el('td', {}, button));
      row.addEventListener('click', () => { state.detailId = task.id; refreshDetail(); });
      return row;
    }), 6);
  }

  async function refreshSchedules() {
    const body = await get('/tasks/' + q(state.selected.name) + '/schedules');
    fill($('schedules').tBodies[0], body.schedules.map((s) => {
      const action = s.paused ? 'resume' : 'pause';
      const button = el('button', { type: 'button', class: 'schedule-action admin', 'data-schedule': s.name, 'data-action': action, hidden: !state.adminEnabled }, s.paused ? 'Resume' : 'Pause');
      button.addEventListener('click', () => actOnSchedule(action, s.name));
      return el('tr', { 'data-schedule': s.name }, el('td', {}, s.name), el('td', {}, s.type), el('td', {}, s.recurrence), el('td', {}, s.misfire),
        el('td', {}, s.nextFireAt ? new Date(s.nextFireAt).toLocaleString() : ''), el('td', {}, s.pendingTaskId), el('td', {}, s.paused ? 'paused' : 'running'), el('td', {}, button));
    }), 8);
  }

  async function actOnSchedule(action, name) {
    try {
      const schedule = await call('POST', '/tasks/' + q(state.selected.name) + '/schedules/' + q(name) + '/' + action);
      say(action + ' ' + name + ': now ' + (schedule.paused ? 'paused' : 'running'), true);
    } catch (e) {
      say(action + ' ' + name + ' refused (' + e.status + '): ' + e.message, false);
    }
    await refresh();
  }

  async function refreshWorkers() {
    const body = await get('/tasks/' + q(state.selected.name) + '/workers');
    fill($('workers').tBodies[0], body.workers.map((w) => el('tr', {},
      el('td', {}, w.workerId), el('td', {}, w.capabilities.join(', ')), el('td', {}, (w.leaseTtlMs / 1000) + ' s'),
      el('td', {}, time(w.lastHeartbeat)), el('td', {}, w.stale ? 'stale' : ''))), 5);
  }

  async function refreshChart() {
    const body = await get('/tasks/' + q(state.selected.name) + '/throughput');
    const chart = $('chart');
    chart.replaceChildren();
    const samples = body.samples;
    const max = Math.max(1, ...samples.map((s) => s.succeeded + s.failed));
    const slots = Math.max(samples.length, 10);
    const width = 600 / slots;
    samples.forEach((s, i) => {
      const x = (slots - samples.length + i) * width;
      const okHeight = (s.succeeded / max) * 100;
      const badHeight = (s.failed / max) * 100;
      const title = time(s.at) + ': ' + s.succeeded + ' succeeded, ' + s.failed + ' failed';
      const ok = svg('rect', { class: 'ok', x: x + 1, y: 110 - okHeight, width: Math.max(1, width - 2), height: okHeight });
      ok.append(svg('title', {}, title));
      chart.append(ok, svg('rect', { class: 'bad', x: x + 1, y: 110 - okHeight - badHeight, width: Math.max(1, width - 2), height: badHeight }));
    });
    chart.append(svg('text', { x: 4, y: 12 }, 'max ' + max + ' per ' + (body.intervalMs / 1000) + ' s'));
    const span = samples.length * body.intervalMs / 1000;
    const spanText = span < 120 ? Math.round(span) + ' s' : Math.round(span / 60) + ' min';
    $('chart-caption').textContent = '(last ' + spanText + '; green: completed, red: failed)';
  }

  async function refreshDetail() {
    if (state.detailId === null) return;
    let body;
    try {
      body = await get('/tasks/' + q(state.selected.name) + '/tasks/' + state.detailId);
    } catch (e) {
      if (e.status === 404) { state.detailId = null; $('detail').hidden = true; return; }
      throw e;
    }
    const task = body.task;
    $('detail').hidden = false;
    $('detail-id').textContent = '#' + task.id;
    $('detail-cancel').hidden = !(state.adminEnabled && (task.state === 'QUEUED' || task.state === 'LEASED'));
    const fields = $('detail-fields');
    fields.replaceChildren();
    for (const key of ['type', 'state', 'attempts', 'maxAttempts', 'priority', 'runAfter', 'lease', 'idempotencyKey', 'requires', 'lastError', 'createdAt', 'updatedAt']) {
      const value = key === 'lease' ? leaseText(task) : Array.isArray(task[key]) ? task[key].join(', ') : task[key];
      fields.append(el('dt', {}, key), el('dd', { id: 'detail-' + key }, value));
    }
    fields.append(el('dt', {}, 'payload'), el('dd', {}, el('pre', {}, JSON.stringify(task.payload, null, 2))));
    fill($('detail-log').tBodies[0], body.log.map((t) => el('tr', {},
      el('td', {}, time(t.at)), el('td', {}, t.from), el('td', { class: 'state-' + t.to }, t.to), el('td', {}, t.workerId), el('td', {}, t.attempt), el('td', {}, t.error))), 6);
  }

  async function act(action, id) {
    try {
      const task = await call('POST', '/tasks/' + q(state.selected.name) + '/tasks/' + id + '/' + action);
      say(action + ' #' + id + ': now ' + task.state, true);
    } catch (e) {
      say(action + ' #' + id + ' refused (' + e.status + '): ' + e.message, false);
    }
    await refresh();
  }

  // ---- Offline queue view ----

  async function refreshEvents() {
    const params = new URLSearchParams({ limit: $('events-page-size').value });
    const cursor = state.eventCursors[state.eventCursors.length - 1]; if (cursor) params.set('cursor', cursor);
    const body = await get('/offline/' + q(state.selected.name) + '/events?' + params.toString());
    fill($('events').tBodies[0], body.events.map((e) => el('tr', { 'data-event-id': e.eventId },
      el('td', {}, e.eventId), el('td', {}, e.eventType), el('td', {}, e.projectId), el('td', {}, e.retryCount), el('td', {}, time(e.timestamp)))), 5);
    state.eventNextCursor = body.nextCursor;
    $('events-next').disabled = !body.nextCursor;
    $('events-prev').disabled = state.eventCursors.length <= 1;
    $('events-page-no').textContent = 'page ' + state.eventCursors.length;
  }

  // ---- Wiring ----

  async function refresh() {
    const overview = await get('/overview');
    renderOverview(overview);
    if (state.selected && state.selected.kind === 'tasks') {
      await Promise.all([refreshTasks(), refreshDead(), refreshSchedules(), refreshWorkers(), refreshChart(), refreshDetail()]);
    } else if (state.selected) {
      await refreshEvents();
    }
  }

  function select(queue) {
    state.selected = queue;
    state.cursors = [null];
    state.eventCursors = [null];
    state.detailId = null;
    $('detail').hidden = true;
    $('task-view').hidden = queue.kind !== 'tasks';
    $('offline-view').hidden = queue.kind !== 'offline';
    renderQueueTabs();
    tick();
  }

  let busy = false;
  async function tick() {
    if (busy) return;
    busy = true;
    try {
      await refresh();
      setStatus('live · updated ' + new Date().toLocaleTimeString());
    } catch (e) {
      setStatus(e.status === 401 ? 'this dashboard needs a token' : 'cannot reach the server: ' + e.message);
    } finally {
      busy = false;
    }
  }

  // Listeners are added once: start() runs again whenever a token is saved.
  function wire() {
    $('token-form').addEventListener('submit', (e) => { e.preventDefault(); sessionStorage.setItem('spool-token', $('token').value.trim()); start(); });
    $('token-clear').addEventListener('click', () => { sessionStorage.removeItem('spool-token'); $('token').value = ''; });
    $('filters').addEventListener('submit', (e) => { e.preventDefault(); state.cursors = [null]; tick(); });
    $('next').addEventListener('click', () => { if (state.nextCursor) { state.cursors.push(state.nextCursor); tick(); } });
    $('prev').addEventListener('click', () => { if (state.cursors.length > 1) { state.cursors.pop(); tick(); } });
    $('events-next').addEventListener('click', () => { if (state.eventNextCursor) { state.eventCursors.push(state.eventNextCursor); tick(); } });
    $('events-prev').addEventListener('click', () => { if (state.eventCursors.length > 1) { state.eventCursors.pop(); tick(); } });
    $('events-page-size').addEventListener('change', () => { state.eventCursors = [null]; tick(); });
    $('detail-cancel').addEventListener('click', () => act('cancel', state.detailId));
  }

  async function start() {
    $('token').value = token();
    let info;
    try {
      info = await get('/queues');
    } catch (e) {
      setStatus(e.status === 401 ? 'this dashboard needs a token' : 'cannot reach the server: ' + e.message);
      return;
    }
    state.queues = info.queues;
    state.adminEnabled = info.adminEnabled;
    state.readsProtected = info.readsProtected;
    document.body.dataset.admin = String(info.adminEnabled);
    if (!state.selected && state.queues.length > 0) {
      select(state.queues.find((x) => x.kind === 'tasks') || state.queues[0]);
    } else {
      renderQueueTabs();
    }
  }

  let started = false;
  document.addEventListener('DOMContentLoaded', async () => {
    wire();
    await start();
    if (!started) { started = true; setInterval(tick, pollMs); }
  });
})();
