// The Ignis console: a read-only view of one node, drawn from /ignis-admin/console/api/*.
// Everything a tenant chose (names, descriptions, environment, log lines) is put in the page as
// text (createTextNode / textContent), never parsed as markup (no HTML-parsing sink is used here).
'use strict';
(function () {
  const API = '/ignis-admin/console/api/';
  const SVG = 'http://www.w3.org/2000/svg';
  let timer = null;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c !== null && c !== undefined) {
        e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
      }
    }
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      e.setAttribute(k, String(v));
    }
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  }

  // the session's page token, written into this page by the server: data requests carry it (the cookie alone is not enough)
  const meta = document.querySelector('meta[name="ignis-console-token"]');
  const pageToken = meta ? meta.getAttribute('content') : '';

  async function get(path) {
    const r = await fetch(API + path, {credentials: 'same-origin', cache: 'no-store', headers: {'X-Ignis-Console': pageToken}});
    if (r.status === 401 || r.status === 403) {
      window.location.assign('/ignis-admin/console/signin');
      throw new Error('signed out');
    }
    const body = await r.json();
    if (!r.ok) {
      throw new Error(body.message || ('HTTP ' + r.status));
    }
    return body;
  }

  function ms(v) {
    if (v === null || v === undefined) {
      return '–';
    }
    return v < 10 ? v.toFixed(2) + ' ms' : v < 1000 ? v.toFixed(0) + ' ms' : (v / 1000).toFixed(2) + ' s';
  }

  function th(text, numeric) {
    return el('th', numeric ? {class: 'n', scope: 'col'} : {scope: 'col'}, text);
  }

  function td(text, numeric) {
    return el('td', numeric ? {class: 'n'} : {}, text);
  }

  function functionLink(accountId, name) {
    return el('a', {href: '#/function/' + encodeURIComponent(accountId) + '/' + encodeURIComponent(name)}, name);
  }

  async function functionsPage() {
    const data = await get('functions');
    const out = [el('h1', {}, 'Functions')];
    if (data.accounts.length === 0) {
      out.push(el('p', {}, 'No accounts yet.'));
    }
    for (const a of data.accounts) {
      const table = el('table', {id: 'functions-' + a.accountId},
        el('caption', {}, 'Account ' + a.name + ' (' + a.accountId + '): ' + a.functionCount + ' function(s)'
          + (a.functionCount > a.functions.length ? ', first ' + a.functions.length + ' listed' : '')),
        el('thead', {}, el('tr', {}, th('Function'), th('Runtime'), th('Memory (MB)', true), th('Last modified'),
          th('Invocations', true), th('Errors', true), th('Throttles', true), th('Duration p50', true), th('Duration p99', true))));
      const body = el('tbody');
      for (const f of a.functions) {
        body.appendChild(el('tr', {'data-function': f.name},
          el('td', {}, functionLink(a.accountId, f.name)), td(f.runtime), td(f.memorySize, true), td(f.lastModified),
          td(f.invocations, true), td(f.errors, true), td(f.throttles, true), td(ms(f.p50Ms), true), td(ms(f.p99Ms), true)));
      }
      table.appendChild(body);
      out.push(table);
    }
    return out;
  }

  function keyValues(caption, id, entries) {
    const body = el('tbody');
    for (const [k, v] of entries) {
      body.appendChild(el('tr', {}, el('th', {scope: 'row'}, k), el('td', {}, v === null || v === undefined ? '–' : String(v))));
    }
    return el('table', {id: id}, el('caption', {}, caption), body);
  }

  async function functionPage(accountId, name) {
    const q = 'account=' + encodeURIComponent(accountId) + '&name=' + encodeURIComponent(name);
    const f = await get('function?' + q);
    const c = f.configuration;
    const m = f.metrics;
    const out = [el('h1', {}, 'Function ' + f.name), el('p', {}, 'Account ' + f.accountId + ' · ',
      el('a', {href: '#/latency/' + encodeURIComponent(f.accountId) + '/' + encodeURIComponent(f.name)}, 'latency picture'))];
    out.push(keyValues('Metrics (all versions, since this node started)', 'metrics', [
      ['Invocations', m.invocations], ['Errors', m.errors], ['Throttles', m.throttles], ['Cold starts', m.coldStarts],
      ['Duration p50', ms(m.p50Ms)], ['Duration p99', ms(m.p99Ms)]]));
    out.push(keyValues('Configuration ($LATEST)', 'configuration', [
      ['Runtime', c.runtime], ['Handler', c.handler], ['Description', c.description], ['Memory (MB)', c.memorySize],
      ['Timeout (s)', c.timeout], ['Ephemeral storage (MB)', c.ephemeralStorageSize], ['Architectures', c.architectures.join(', ')],
      ['Role', c.role], ['Code SHA-256', c.codeSha256Hex], ['Code size (bytes)', c.codeSize], ['Last modified', c.lastModified],
      ['Revision', c.revisionId], ['State', c.state], ['Reserved concurrency', c.reservedConcurrency]]));
    out.push(keyValues('Environment', 'environment', Object.entries(c.environment)));
    if (f.versions.length > 0) {
      out.push(keyValues('Versions', 'versions', f.versions.map(v => [v.version, v.lastModified + ' · ' + v.codeSha256Hex])));
    }
    if (f.aliases.length > 0) {
      out.push(keyValues('Aliases', 'aliases', f.aliases.map(a => [a.name, 'version ' + a.functionVersion
        + Object.entries(a.additionalVersionWeights).map(([v, w]) => ', ' + (w * 100).toFixed(0) + '% to ' + v).join('')])));
    }
    out.push(el('h2', {id: 'logs-heading'}, 'Recent log lines'));
    out.push(el('pre', {class: 'logs', id: 'logs', 'aria-labelledby': 'logs-heading'}, f.logs.join('\n') || '(none yet)'));
    return out;
  }

  async function sandboxesPage() {
    const data = await get('sandboxes');
    const out = [el('h1', {}, 'Sandboxes')];
    if (!data.table) {
      out.push(el('p', {}, 'This node holds no sandbox table.'));
      return out;
    }
    const states = [...new Set(Object.values(data.workers).flatMap(s => Object.keys(s)))].sort();
    const body = el('tbody');
    for (const [worker, byState] of Object.entries(data.workers)) {
      body.appendChild(el('tr', {'data-worker': worker}, td(worker), ...states.map(s => td(byState[s] || 0, true))));
    }
    out.push(el('table', {id: 'sandboxes'}, el('caption', {}, 'Live sandboxes per worker and state'),
      el('thead', {}, el('tr', {}, th('Worker'), ...states.map(s => th(s, true)))), body));
    if (Object.keys(data.workers).length === 0) {
      out.push(el('p', {}, 'No live sandboxes.'));
    }
    return out;
  }

  // The talk's latency picture, live: invokes per Duration bucket on log scales, warm and cold apart.
  function histogram(data) {
    const W = 960, H = 380, L = 60, R = 20, T = 20, B = 50;
    const bounds = data.boundsMs;
    const chart = svg('svg', {viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', id: 'latency-chart',
      'aria-label': 'Invokes per duration bucket, warm and cold'});
    if (bounds.length === 0) {
      chart.appendChild(svg('text', {x: L, y: H / 2}, 'No invokes yet.'));
      return chart;
    }
    const lo = Math.log10(bounds[0] / 2), hi = Math.log10(bounds[bounds.length - 1]);
    const x = v => L + (Math.log10(v) - lo) / (hi - lo) * (W - L - R);
    const maxCount = Math.max(1, ...data.warm.counts, ...data.cold.counts);
    const top = Math.log10(maxCount) + 0.2;
    const y = n => H - B - (Math.log10(n) + 0.3) / (top + 0.3) * (H - T - B);
    for (let d = Math.ceil(lo); d <= Math.floor(hi); d++) {
      const v = Math.pow(10, d);
      chart.appendChild(svg('line', {x1: x(v), x2: x(v), y1: T, y2: H - B, class: 'grid'}));
      chart.appendChild(svg('text', {x: x(v), y: H - B + 15, 'text-anchor': 'middle'}, v < 1 ? v * 1000 + ' µs' : v < 1000 ? v + ' ms' : v / 1000 + ' s'));
    }
    for (let d = 0; d <= Math.floor(top); d++) {
      chart.appendChild(svg('text', {x: L - 6, y: y(Math.pow(10, d)) + 4, 'text-anchor': 'end'}, String(Math.pow(10, d))));
    }
    chart.appendChild(svg('text', {x: (L + W - R) / 2, y: H - 12, 'text-anchor': 'middle'}, 'Duration of one invoke (log scale, bucket bounds)'));
    chart.appendChild(svg('text', {x: 14, y: (T + H - B) / 2, transform: 'rotate(-90 14 ' + (T + H - B) / 2 + ')', 'text-anchor': 'middle'},
      'invokes per bucket (log)'));
    for (const [start, cls, shift] of [['warm', 'bar-warm', 0], ['cold', 'bar-cold', 0.5]]) {
      data[start].counts.forEach((n, i) => {
        if (n <= 0) {
          return;
        }
        const x0 = x(i === 0 ? bounds[0] / 2 : bounds[i - 1]), x1 = x(bounds[i]);
        const w = (x1 - x0) / 2 - 1;
        chart.appendChild(svg('rect', {x: x0 + shift * (x1 - x0) + 0.5, y: y(n), width: Math.max(1, w), height: H - B - y(n),
          class: cls, 'data-start': start, 'data-count': n}));
      });
    }
    let row = T + 12;
    for (const start of ['warm', 'cold']) {
      const s = data[start];
      chart.appendChild(svg('text', {x: W - R - 320, y: row, class: start, id: 'legend-' + start},
        start + ': ' + s.count + ' invokes, p50 ' + ms(s.p50Ms) + ', p99 ' + ms(s.p99Ms)
        + (s.overflow > 0 ? ', ' + s.overflow + ' above ' + ms(bounds[bounds.length - 1]) : '')));
      row += 16;
    }
    return chart;
  }

  async function latencyPage(accountId, name) {
    const one = accountId && name;
    const data = await get('latency' + (one ? '?account=' + encodeURIComponent(accountId) + '&name=' + encodeURIComponent(name) : ''));
    return [el('h1', {}, 'Latency' + (one ? ' of ' + name : ' of every function')),
      el('p', {}, 'The REPORT Duration of each invoke this node served, from the Duration histograms of its metrics '
        + '(lambda_duration_seconds, start="warm" and "cold"): the picture of docs/latency.html, live.'),
      histogram(data)];
  }

  function route() {
    const parts = window.location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    switch (parts[0]) {
      case 'function': return ['functions', () => functionPage(parts[1], parts[2])];
      case 'sandboxes': return ['sandboxes', sandboxesPage];
      case 'latency': return ['latency', () => latencyPage(parts[1], parts[2])];
      default: return ['functions', functionsPage];
    }
  }

  async function render() {
    const [nav, page] = route();
    for (const a of document.querySelectorAll('nav a')) {
      if (a.id === 'nav-' + nav) {
        a.setAttribute('aria-current', 'page');
      } else {
        a.removeAttribute('aria-current');
      }
    }
    const view = document.getElementById('view');
    try {
      const nodes = await page();
      view.replaceChildren(...nodes);
      document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      view.setAttribute('data-loaded', String(Date.now()));
    } catch (e) {
      view.replaceChildren(el('p', {class: 'error', role: 'alert'}, 'Cannot load: ' + e.message));
    }
  }

  function start() {
    render();
    window.addEventListener('hashchange', render);
    timer = window.setInterval(render, 2000);
  }

  document.addEventListener('DOMContentLoaded', start);
})();
