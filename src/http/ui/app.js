// txflow dashboard: a hash-routed single page over /api/v1/, polling every 2 s.
'use strict';
(function () {
  const API = '/api/v1';
  const POLL_MS = 2000;
  const PAGE = 50;
  let session = { csrf_token: '', read_only: true };
  let timer = null;
  const state = { q: '', sort: 'name', order: 'asc', offset: 0, sagaState: '', sagaName: '', txnState: '' };
  const main = document.getElementById('main');

  const esc = (v) => String(v === null || v === undefined ? '' : v).replace(/[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const time = (ms) => (ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').replace('.000Z', 'Z'));
  const dur = (ms) => (ms === null || ms === undefined ? '—' : ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(1) + ' s');
  const enc = encodeURIComponent;

  async function get(path) {
    const res = await fetch(API + path, { credentials: 'same-origin' });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.statusText);
    return body;
  }

  async function post(path) {
    const res = await fetch(API + path, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'X-CSRF-Token': session.csrf_token, 'Content-Type': 'application/json' }, body: '{}' });
    const body = await res.json();
    setStatus(res.ok ? 'done: ' + body.action + ' ' + body.target : 'error: ' + body.error, !res.ok);
    refresh();
  }

  function setStatus(text, bad) {
    const s = document.getElementById('status');
    s.textContent = text;
    s.className = 'status' + (bad ? ' error' : '');
  }

  const actionButton = (label, path, id) => (session.read_only ? '' :
    `<button class="action" data-post="${esc(path)}" id="${esc(id)}">${esc(label)}</button>`);

  // ---- pages: each returns HTML for the current data
  const pages = {
    async overview() {
      const o = await get('/overview');
      const card = (n, l, id) => `<div class="card" id="${id}"><div class="n">${esc(n)}</div><div class="l">${esc(l)}</div></div>`;
      const queues = o.queues.map((q) => card(q.queued + ' / ' + q.running, 'queue ' + q.name + ' (waiting / running)', 'queue-' + q.name)).join('');
      const sagas = Object.entries(o.sagas).map(([s, n]) => `<span class="${esc(s)}">${esc(s)}: ${esc(n)}</span>`).join(' · ');
      return `<h1>Overview</h1><div class="cards">${card(o.runs_per_minute, 'runs / minute', 'runs-per-minute')}
        ${card(o.failures_last_hour, 'failures (last hour)', 'failures')}${card(o.running, 'running now', 'running')}
        ${card(o.jobs, 'jobs (' + o.paused + ' paused)', 'jobs-count')}${card(o.dead_letters, 'dead letters', 'dead-count')}${queues}</div>
        <h2>Last hour</h2>${chart(o.last_hour)}<h2>Sagas</h2><p>${sagas || '<span class="muted">none</span>'}</p>`;
    },
    async jobs() {
      const p = `/jobs?offset=${state.offset}&limit=${PAGE}&sort=${enc(state.sort)}&order=${state.order}&q=${enc(state.q)}`;
      const r = await get(p);
      const rows = r.jobs.map((j) => `<tr data-job="${esc(j.name)}">
        <td><a href="#/jobs/${enc(j.name)}" class="job-name">${esc(j.name)}</a></td>
        <td><code>${esc(j.schedule)}</code><div class="muted">${esc(j.description)}</div></td><td>${esc(j.zone || '—')}</td>
        <td class="fires">${j.next_fires.map(time).join('<br>') || '—'}</td>
        <td class="${esc(j.last_outcome)}">${esc(j.last_outcome)}</td><td>${dur(j.last_duration_ms)}</td><td>${esc(j.run_count)}</td>
        <td class="state ${j.paused ? 'paused' : ''}">${j.paused ? 'paused' : j.running ? 'running' : 'active'}</td>
        <td>${j.paused ? actionButton('resume', '/jobs/' + enc(j.name) + '/resume', 'resume-' + j.name)
                       : actionButton('pause', '/jobs/' + enc(j.name) + '/pause', 'pause-' + j.name)}
            ${actionButton('trigger', '/jobs/' + enc(j.name) + '/trigger', 'trigger-' + j.name)}</td></tr>`).join('');
      const th = (key, label) => `<th class="sortable" data-sort="${key}">${label}${state.sort === key ? (state.order === 'asc' ? ' ▲' : ' ▼') : ''}</th>`;
      const last = Math.min(r.offset + r.jobs.length, r.total);
      return `<h1>Jobs</h1><div class="toolbar"><input id="filter" placeholder="filter by name" value="${esc(state.q)}">
        <span id="page-info">${r.total ? r.offset + 1 : 0}–${last} of ${r.total}</span>
        <button id="prev" ${r.offset === 0 ? 'disabled' : ''}>‹ prev</button><button id="next" ${last >= r.total ? 'disabled' : ''}>next ›</button></div>
        <table id="jobs-table"><thead><tr>${th('name', 'Name')}<th>Schedule</th><th>Zone</th>${th('next_fire', 'Next 5 fires')}
        ${th('last_outcome', 'Last outcome')}<th>Duration</th>${th('run_count', 'Runs')}<th>State</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
    },
    async job(name) {
      const j = await get('/jobs/' + enc(name));
      const runs = j.runs.map((r) => `<tr class="run" data-fire="${esc(r.fire_time)}"><td>${time(r.fire_time)}</td><td>${esc(r.attempt)}</td><td>${time(r.started)}</td>
        <td>${dur(r.duration_ms)}</td><td>${dur(r.lateness_ms)}</td><td class="${esc(r.outcome)} run-outcome">${esc(r.outcome)}</td><td>${esc(r.error)}</td>
        <td class="trace" title="span ${esc(r.span_id)}"><code>${esc(r.trace_id || '—')}</code></td>
        <td>${r.outcome === 'running' ? actionButton('cancel', '/jobs/' + enc(j.name) + '/runs/' + r.fire_time + '/cancel', 'cancel-run-' + r.fire_time) : ''}</td></tr>`).join('');
      return `<h1>Job <span id="job-title">${esc(j.name)}</span> <span class="${j.paused ? 'paused' : ''}" id="job-state">${j.paused ? 'paused' : 'active'}</span></h1>
        <p><code>${esc(j.schedule)}</code> — ${esc(j.description)} (${esc(j.zone || 'no zone')})</p>
        <p>Next fires: ${j.next_fires.map(time).join(', ') || '—'}</p><p>Runs: ${esc(j.run_count)}, attempts: ${esc(j.attempt_count)}</p>
        <p>${j.paused ? actionButton('resume', '/jobs/' + enc(j.name) + '/resume', 'resume') : actionButton('pause', '/jobs/' + enc(j.name) + '/pause', 'pause')}
        ${actionButton('trigger now', '/jobs/' + enc(j.name) + '/trigger', 'trigger')}</p>
        <h2>Run history</h2><table id="runs-table"><thead><tr><th>Fire</th><th>Attempt</th><th>Started</th><th>Duration</th><th>Lateness</th>
        <th>Outcome</th><th>Error</th><th>Trace id</th><th></th></tr></thead><tbody>${runs}</tbody></table>`;
    },
    async timeline() {
      const r = await get('/runs?minutes=10');
      return `<h1>Timeline (last 10 minutes)</h1>${gantt(r)}`;
    },
    async queues() {
      const r = await get('/queues');
      const rows = r.queues.map((q) => `<tr><td>${esc(q.name)}</td><td>${q.limit || '∞'}</td><td>${esc(q.running)}</td>
        <td>${esc(q.queued)}</td><td>${dur(q.oldest_wait_ms)}</td></tr>`).join('');
      return `<h1>Queues</h1><table id="queues-table"><thead><tr><th>Queue</th><th>Limit</th><th>Running</th><th>Waiting</th>
        <th>Oldest waiting</th></tr></thead><tbody>${rows}</tbody></table>`;
    },
    async sagas() {
      const r = await get(`/sagas?state=${enc(state.sagaState)}&name=${enc(state.sagaName)}`);
      const states = ['', 'pending', 'running', 'succeeded', 'failed', 'compensating', 'compensated', 'compensation_failed'];
      const rows = r.sagas.map((s) => `<tr><td><a href="#/sagas/${enc(s.id)}" class="saga-id">${esc(s.id)}</a></td><td>${esc(s.definition)}</td>
        <td class="${esc(s.state)}">${esc(s.state)}</td><td>${time(s.updated)}</td><td>${esc(s.error)}</td></tr>`).join('');
      return `<h1>Sagas</h1><div class="toolbar"><select id="saga-state">${states.map((s) =>
        `<option value="${s}" ${s === state.sagaState ? 'selected' : ''}>${s || 'any state'}</option>`).join('')}</select>
        <input id="saga-name" placeholder="definition name" value="${esc(state.sagaName)}"><span>${esc(r.total)} sagas</span></div>
        <table id="sagas-table"><thead><tr><th>Id</th><th>Saga</th><th>State</th><th>Updated</th><th>Error</th></tr></thead><tbody>${rows}</tbody></table>`;
    },
    async saga(id) {
      const s = await get('/sagas/' + enc(id));
      const steps = s.steps.map((st, i) => `<tr class="step" data-step="${esc(st.name)}"><td>${i + 1}</td><td>${esc(st.name)}</td>
        <td class="${esc(st.state)} step-state">${esc(st.state)}</td><td>${esc(st.attempts)}</td><td>${esc(st.compensation_attempts)}</td>
        <td>${time(st.started)}</td><td>${time(st.finished)}</td><td>${esc(st.error)}</td></tr>`).join('');
      // Compensations in the order they ended: the reverse of the steps' order when all went well.
      const undone = s.steps.filter((st) => st.compensation_attempts > 0)
        .sort((a, b) => (a.finished || 0) - (b.finished || 0) || s.steps.indexOf(b) - s.steps.indexOf(a));
      const comp = undone.map((st) => `<li class="compensation ${esc(st.state)}">${esc(st.name)} — ${esc(st.state)} at ${time(st.finished)}</li>`).join('');
      const actions = (s.state === 'compensation_failed' ? actionButton('retry compensation', '/sagas/' + enc(s.id) + '/retry-compensation', 'retry-compensation') : '') +
        (['pending', 'running'].includes(s.state) ? actionButton('cancel', '/sagas/' + enc(s.id) + '/cancel', 'cancel-saga') : '');
      return `<h1>Saga ${esc(s.id)} <span class="${esc(s.state)}" id="saga-state-label">${esc(s.state)}</span></h1>
        <p>${esc(s.definition)} · created ${time(s.created)} · ${esc(s.error)}</p><p>${actions}</p>${stepChart(s.steps)}
        <h2>Steps</h2><table id="steps-table"><thead><tr><th>#</th><th>Step</th><th>State</th><th>Attempts</th><th>Compensation attempts</th>
        <th>Started</th><th>Finished</th><th>Error</th></tr></thead><tbody>${steps}</tbody></table>
        <h2>Compensations, in the order they ran</h2><ol id="compensations">${comp || '<li class="muted">none</li>'}</ol>`;
    },
    async transactions() {
      const r = await get(`/transactions?state=${enc(state.txnState)}`);
      const states = ['', 'preparing', 'committing', 'aborting', 'committed', 'aborted', 'commit_stalled'];
      const rows = r.transactions.map((t) => `<tr><td><a href="#/transactions/${enc(t.id)}" class="txn-id">${esc(t.id)}</a></td>
        <td>${esc(t.definition)}</td><td class="${esc(t.state)}">${esc(t.state)}</td><td>${esc(t.phase)}</td><td>${esc(t.participants)}</td>
        <td>${time(t.updated)}</td><td>${esc(t.reason)}</td></tr>`).join('');
      return `<h1>Transactions</h1><div class="toolbar"><select id="txn-state">${states.map((s) =>
        `<option value="${s}" ${s === state.txnState ? 'selected' : ''}>${s || 'any state'}</option>`).join('')}</select><span>${esc(r.total)} transactions</span></div>
        <table id="transactions-table"><thead><tr><th>Id</th><th>Definition</th><th>State</th><th>Phase</th><th>Participants</th><th>Updated</th><th>Reason</th></tr></thead>
        <tbody>${rows || '<tr><td colspan="7" class="muted">none</td></tr>'}</tbody></table>`;
    },
    async transaction(id) {
      const t = await get('/transactions/' + enc(id));
      const rows = t.participants.map((p) => `<tr class="participant" data-participant="${esc(p.name)}"><td>${esc(p.name)}</td>
        <td class="${esc(p.state)} participant-state">${esc(p.state)}</td><td>${esc(p.phase)}</td><td>${esc(p.attempts)}</td>
        <td>${esc(p.reason)}</td><td class="error-text">${esc(p.last_error)}</td></tr>`).join('');
      return `<h1>Transaction ${esc(t.id)} <span class="${esc(t.state)}" id="txn-state-label">${esc(t.state)}</span></h1>
        <p>${esc(t.definition)} · phase ${esc(t.phase)} · created ${time(t.created)} · updated ${time(t.updated)} ${esc(t.reason)}</p>
        <h2>Participants</h2><table id="participants-table"><thead><tr><th>Participant</th><th>State</th><th>Phase</th><th>Attempts</th>
        <th>Vote reason</th><th>Last error</th></tr></thead><tbody>${rows}</tbody></table>`;
    },
    async cluster() {
      const c = await get('/cluster');
      if (!c.enabled) return '<h1>Cluster</h1><p class="muted" id="cluster-off">Not a cluster member: no PostgreSQL store configured.</p>';
      const nodes = c.nodes.map((n) => `<tr><td>${esc(n.id)}</td><td>${esc(n.name)}</td><td>${esc(n.host)}</td><td>${esc(n.pid)}</td>
        <td>${time(n.started)}</td><td>${dur(c.now - n.heartbeat)} ago</td><td>${esc(n.running)}</td></tr>`).join('');
      const leaders = c.leaders.map((l) => `<tr><td>${esc(l.name)}</td><td>${esc(l.node)}</td><td>${esc(l.epoch)}</td>
        <td class="${l.held ? 'succeeded' : 'failed'}">${time(l.lease_until)}</td></tr>`).join('');
      const running = c.running.map((j) => `<tr><td>${esc(j.id)}</td><td>${esc(j.kind)}</td><td>${esc(j.queue)}</td><td>${esc(j.attempt)}</td>
        <td>${esc(j.node_id)}</td><td>${j.lease_until === null ? '—' : dur(j.lease_until - c.now)}</td></tr>`).join('');
      return `<h1>Cluster <span class="muted">(schema ${esc(c.schema)})</span></h1>
        <h2>Nodes</h2><table id="nodes-table"><thead><tr><th>Id</th><th>Name</th><th>Host</th><th>PID</th><th>Started</th><th>Heartbeat</th><th>Running</th></tr></thead>
        <tbody>${nodes || '<tr><td colspan="7" class="muted">none</td></tr>'}</tbody></table>
        <h2>Leaders</h2><table id="leaders-table"><thead><tr><th>Lease</th><th>Node</th><th>Epoch</th><th>Until</th></tr></thead>
        <tbody>${leaders || '<tr><td colspan="4" class="muted">none</td></tr>'}</tbody></table>
        <h2>Running jobs and their leases</h2><table id="leases-table"><thead><tr><th>Id</th><th>Kind</th><th>Queue</th><th>Attempt</th><th>Node</th><th>Lease left</th></tr></thead>
        <tbody>${running || '<tr><td colspan="6" class="muted">none</td></tr>'}</tbody></table>`;
    },
    async breakers() {
      const r = await get('/breakers');
      const rows = r.breakers.map((b) => `<tr><td>${esc(b.name)}</td><td class="${esc(b.state)}">${esc(b.state)}</td><td>${esc(b.calls)} / ${esc(b.window)}</td>
        <td>${esc(b.failures)}</td><td>${(b.failure_rate * 100).toFixed(0)}% (opens at ${(b.failure_rate_limit * 100).toFixed(0)}%)</td></tr>`).join('');
      return `<h1>Circuit breakers</h1><table id="breakers-table"><thead><tr><th>Breaker</th><th>State</th><th>Calls in window</th>
        <th>Failures</th><th>Failure rate</th></tr></thead><tbody>${rows || '<tr><td colspan="5" class="muted">no breakers</td></tr>'}</tbody></table>`;
    },
    async 'dead-letters'() {
      const r = await get('/dead-letters');
      const rows = r.dead_letters.map((d) => `<tr><td>${esc(d.id)}</td><td>${esc(d.job)}</td><td>${time(d.scheduled)}</td><td>${esc(d.attempts)}</td>
        <td>${esc(d.error)}</td><td>${actionButton('retry', '/dead-letters/' + d.id + '/retry', 'retry-' + d.id)}</td></tr>`).join('');
      return `<h1>Dead letters</h1><table id="dead-table"><thead><tr><th>Id</th><th>Job</th><th>Fire</th><th>Attempts</th><th>Error</th><th></th></tr></thead>
        <tbody>${rows || '<tr><td colspan="6" class="muted">none</td></tr>'}</tbody></table>`;
    },
  };

  // ---- charts (SVG)
  function chart(minutes) {
    const w = 600; const h = 120; const max = Math.max(1, ...minutes.map((m) => m.finished));
    const bw = w / minutes.length;
    const bars = minutes.map((m, i) => {
      const fh = (m.finished / max) * (h - 10); const eh = (m.failed / max) * (h - 10);
      return `<rect x="${i * bw}" y="${h - fh}" width="${bw - 1}" height="${fh}" fill="#90caf9"><title>${time(m.minute)}: ${m.finished} runs, ${m.failed} failed</title></rect>` +
        `<rect x="${i * bw}" y="${h - eh}" width="${bw - 1}" height="${eh}" fill="#e57373"></rect>`;
    }).join('');
    return `<svg id="hour-chart" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${bars}</svg>`;
  }

  function gantt(r) {
    const jobs = [...new Set(r.runs.map((x) => x.job))].sort();
    const w = 900; const left = 160; const row = 22; const h = Math.max(1, jobs.length) * row + 20;
    const span = Math.max(1, r.now - r.since);
    const x = (t) => left + ((t - r.since) / span) * (w - left);
    const bars = r.runs.map((run) => {
      const y = jobs.indexOf(run.job) * row + 4;
      const end = run.outcome === 'running' ? r.now : run.started + run.duration_ms;
      const color = { succeeded: '#66bb6a', failed: '#e57373', timed_out: '#e57373', running: '#64b5f6' }[run.outcome] || '#ffb74d';
      return `<rect class="run" x="${x(run.started)}" y="${y}" width="${Math.max(2, x(end) - x(run.started))}" height="${row - 8}" fill="${color}">
        <title>${esc(run.job)} attempt ${run.attempt}: ${esc(run.outcome)}, ${dur(run.duration_ms)}, late ${dur(run.lateness_ms)} ${esc(run.error)}</title></rect>`;
    }).join('');
    const labels = jobs.map((j, i) => `<text x="4" y="${i * row + 16}" font-size="12">${esc(j)}</text>`).join('');
    return `<svg id="gantt" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${labels}${bars}
      <text x="${left}" y="${h - 4}" font-size="10">${time(r.since)}</text><text x="${w - 130}" y="${h - 4}" font-size="10">${time(r.now)}</text></svg>`;
  }

  function stepChart(steps) {
    const times = steps.flatMap((s) => [s.started, s.finished]).filter((t) => t);
    if (!times.length) return '';
    const t0 = Math.min(...times); const t1 = Math.max(...times, t0 + 1);
    const w = 700; const left = 140; const row = 22;
    const x = (t) => left + ((t - t0) / (t1 - t0)) * (w - left - 10);
    const bars = steps.map((s, i) => (s.started ? `<rect x="${x(s.started)}" y="${i * row + 4}" width="${Math.max(3, x(s.finished || t1) - x(s.started))}"
      height="${row - 8}" fill="${s.state === 'compensated' ? '#ffb74d' : s.state === 'failed' ? '#e57373' : '#66bb6a'}"><title>${esc(s.name)}: ${esc(s.state)}</title></rect>` : '') +
      `<text x="4" y="${i * row + 16}" font-size="12">${esc(s.name)}</text>`).join('');
    return `<svg id="step-chart" width="${w}" height="${steps.length * row + 8}">${bars}</svg>`;
  }

  // ---- routing and polling
  function route() {
    const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    const page = parts[0] || 'overview';
    if (page === 'jobs' && parts[1]) return ['job', parts.slice(1).join('/')];
    if (page === 'sagas' && parts[1]) return ['saga', parts.slice(1).join('/')];
    if (page === 'transactions' && parts[1]) return ['transaction', parts.slice(1).join('/')];
    return [pages[page] ? page : 'overview', null];
  }

  async function refresh() {
    const [page, arg] = route();
    document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', page.startsWith(a.dataset.page.replace(/s$/, ''))));
    const focused = document.activeElement && document.activeElement.id;
    try {
      const html = await pages[page](arg);
      if (route()[0] !== page) return;  // navigated away meanwhile
      main.innerHTML = html;
      main.dataset.page = page;
      if (focused) { const el = document.getElementById(focused); if (el) { el.focus(); if (el.setSelectionRange && el.value) el.setSelectionRange(el.value.length, el.value.length); } }
    } catch (e) {
      main.innerHTML = `<p class="error" id="load-error">${esc(e.message)}</p>`;
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(async () => { if (!document.hidden) await refresh(); schedule(); }, POLL_MS);
  }

  main.addEventListener('click', (ev) => {
    const t = ev.target;
    if (t.dataset && t.dataset.post) { post(t.dataset.post); return; }
    if (t.dataset && t.dataset.sort) {
      state.order = state.sort === t.dataset.sort && state.order === 'asc' ? 'desc' : 'asc';
      state.sort = t.dataset.sort; state.offset = 0; refresh();
    }
    if (t.id === 'prev') { state.offset = Math.max(0, state.offset - PAGE); refresh(); }
    if (t.id === 'next') { state.offset += PAGE; refresh(); }
  });
  main.addEventListener('input', (ev) => {
    if (ev.target.id === 'filter') { state.q = ev.target.value; state.offset = 0; refresh(); }
    if (ev.target.id === 'saga-name') { state.sagaName = ev.target.value; refresh(); }
  });
  main.addEventListener('change', (ev) => {
    if (ev.target.id === 'saga-state') { state.sagaState = ev.target.value; refresh(); }
    if (ev.target.id === 'txn-state') { state.txnState = ev.target.value; refresh(); }
  });
  window.addEventListener('hashchange', refresh);

  get('/session').then((s) => {
    session = s;
    document.getElementById('mode').textContent = s.read_only ? 'read-only' : '';
    document.body.dataset.readOnly = String(s.read_only);
  }).catch((e) => setStatus(e.message, true)).finally(() => { refresh(); schedule(); });
})();
