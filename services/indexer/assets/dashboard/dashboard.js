// The city dashboard: reads the filter from the page's query string, asks
// POST <base>/v1/_summary for every figure and draws them as SVG bar and line charts.
// No library and no other request: the page's Content-Security-Policy allows only this
// origin. Each chart carries its total as <span data-total="<chart>">n</span>, and
// <body data-state> ends as "ready" or "error".
(() => {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const WIDTH = 640;

  const el = (tag, attrs = {}, children = []) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    for (const c of [].concat(children)) {
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  };

  const svg = (tag, attrs = {}, text) => {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  };

  const count = (n) => Number(n).toLocaleString('en-IN');
  const rupees = (n) =>
    '₹' + Number(n).toLocaleString('en-IN', { minimumFractionDigits: 0, maximumFractionDigits: 2 });

  // "2024-06-01" from a date input → epoch ms at the start (or end) of that UTC day.
  const dayStart = (d) => (d ? Date.parse(d + 'T00:00:00.000Z') : null);
  const dayEnd = (d) => (d ? Date.parse(d + 'T23:59:59.999Z') : null);

  // A card: title, the chart's total (raw value, for people and tests), extra figures.
  const card = (id, title, total, totalText, body, extras = []) => {
    const head = el('header', {}, [
      el('h2', {}, title),
      el('p', { class: 'total' }, [el('span', { 'data-total': id }, total), ' ', totalText]),
    ]);
    const figures = extras.map(([key, label, value]) =>
      el('p', { class: 'figure' }, [label + ': ', el('span', { 'data-total': key }, value)]),
    );
    return el('section', { class: 'card', 'data-chart': id }, [head, ...figures, body]);
  };

  const empty = () => el('p', { class: 'empty' }, 'No data for this selection.');

  // Horizontal bars: [{label, value, text}] largest first as given.
  const barChart = (items, cls = '') => {
    const shown = items.filter((i) => i.value > 0);
    if (!shown.length) return empty();
    const row = 26;
    const labelW = 210;
    const valueW = 150;
    const barW = WIDTH - labelW - valueW;
    const max = Math.max(...shown.map((i) => i.value));
    const root = svg('svg', {
      viewBox: `0 0 ${WIDTH} ${shown.length * row + 4}`,
      class: 'chart bars ' + cls,
      role: 'img',
    });
    shown.forEach((item, n) => {
      const y = n * row + 2;
      const w = Math.max(2, (item.value / max) * barW);
      const g = svg('g');
      g.append(svg('title', {}, `${item.label}: ${item.text}`));
      g.append(svg('text', { x: labelW - 8, y: y + 17, class: 'label', 'text-anchor': 'end' }, item.label));
      g.append(svg('rect', { x: labelW, y: y + 3, width: w, height: row - 8, rx: 3, class: 'bar' }));
      g.append(svg('text', { x: labelW + w + 6, y: y + 17, class: 'value' }, item.text));
      root.append(g);
    });
    return root;
  };

  // Bars grouped per row, the row's label above its bars: rows [{label, values: [n…]}],
  // series [{name, cls}].
  const groupedBars = (rows, series, format) => {
    if (!rows.length) return empty();
    const bar = 14;
    const labelH = 18;
    const group = labelH + series.length * bar + 10;
    const valueW = 130;
    const barW = WIDTH - valueW;
    const max = Math.max(1e-9, ...rows.flatMap((r) => r.values));
    const legendH = 24;
    const root = svg('svg', {
      viewBox: `0 0 ${WIDTH} ${legendH + rows.length * group}`,
      class: 'chart grouped',
      role: 'img',
    });
    series.forEach((s, i) => {
      const x = i * 130;
      root.append(svg('rect', { x, y: 4, width: 12, height: 12, class: 'bar ' + s.cls }));
      root.append(svg('text', { x: x + 16, y: 15, class: 'legend' }, s.name));
    });
    rows.forEach((r, n) => {
      const y0 = legendH + n * group;
      root.append(svg('text', { x: 0, y: y0 + 13, class: 'label' }, r.label));
      r.values.forEach((v, i) => {
        const y = y0 + labelH + i * bar;
        const w = Math.max(v > 0 ? 2 : 0, (v / max) * barW);
        const g = svg('g');
        g.append(svg('title', {}, `${r.label} · ${series[i].name}: ${format(v)}`));
        g.append(svg('rect', { x: 0, y, width: w, height: bar - 3, class: 'bar ' + series[i].cls }));
        g.append(svg('text', { x: w + 6, y: y + 10, class: 'value small' }, format(v)));
        root.append(g);
      });
    });
    return root;
  };

  // A line over equally spaced buckets: points [{date, count}].
  const lineChart = (points, interval) => {
    if (!points.length || points.every((p) => p.count === 0)) return empty();
    const h = 220;
    const pad = { l: 44, r: 24, t: 12, b: 40 };
    const w = WIDTH - pad.l - pad.r;
    const ih = h - pad.t - pad.b;
    const max = Math.max(1, ...points.map((p) => p.count));
    const x = (i) => pad.l + (points.length === 1 ? w / 2 : (i / (points.length - 1)) * w);
    const y = (v) => pad.t + ih - (v / max) * ih;
    const label = (p) => (interval === 'month' ? p.date.slice(0, 7) : p.date);
    const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${h}`, class: 'chart line', role: 'img' });
    root.append(svg('line', { x1: pad.l, y1: pad.t + ih, x2: pad.l + w, y2: pad.t + ih, class: 'axis' }));
    root.append(svg('line', { x1: pad.l, y1: pad.t, x2: pad.l, y2: pad.t + ih, class: 'axis' }));
    root.append(svg('text', { x: pad.l - 6, y: pad.t + 8, class: 'tick', 'text-anchor': 'end' }, count(max)));
    root.append(svg('text', { x: pad.l - 6, y: pad.t + ih, class: 'tick', 'text-anchor': 'end' }, '0'));
    root.append(
      svg('polyline', {
        points: points.map((p, i) => `${x(i).toFixed(1)},${y(p.count).toFixed(1)}`).join(' '),
        class: 'series',
      }),
    );
    const every = Math.max(1, Math.ceil(points.length / 7));
    points.forEach((p, i) => {
      const g = svg('g');
      g.append(svg('title', {}, `${label(p)}: ${count(p.count)}`));
      g.append(svg('circle', { cx: x(i), cy: y(p.count), r: points.length > 60 ? 1.5 : 3, class: 'dot' }));
      root.append(g);
      const last = i === points.length - 1;
      if ((i % every === 0 && points.length - 1 - i >= every / 2) || last) {
        const anchor = points.length > 1 && last ? 'end' : i === 0 && points.length > 1 ? 'start' : 'middle';
        root.append(svg('text', { x: x(i), y: h - pad.b + 18, class: 'tick', 'text-anchor': anchor }, label(p)));
      }
    });
    return root;
  };

  // A breakdown's bars, with the documents beyond the shown buckets and those without the
  // field as their own bars, so the bars add up to the total.
  const breakdownBars = (b) =>
    barChart(
      b.buckets
        .map((x) => ({ label: x.key, value: x.count, text: count(x.count) }))
        .concat(b.other ? [{ label: '(other)', value: b.other, text: count(b.other) }] : [])
        .concat(b.missing ? [{ label: '(not recorded)', value: b.missing, text: count(b.missing) }] : []),
    );

  const statusBars = (p) =>
    barChart(
      p.byStatus
        .map((b) => ({ label: b.key, value: b.count, text: `${count(b.count)} · ${rupees(b.grossAmount)}` }))
        .concat(p.other.count ? [{ label: '(other)', value: p.other.count, text: count(p.other.count) }] : [])
        .concat(p.missing.count ? [{ label: '(not recorded)', value: p.missing.count, text: count(p.missing.count) }] : []),
    );

  const render = (s) => {
    const c = s.complaints;
    const sla = c.sla;
    const slaText =
      sla.rule === 'fixed' ? `SLA ${sla.hours} h for every complaint` : `each complaint's own SLA (default ${sla.defaultHours} h)`;
    const hoa = s.funds.headOfAccountCode;
    const cards = [
      card('complaintsByStatus', 'Complaints by status', c.total, 'complaints', breakdownBars(c.byStatus), [
        ['citizens', 'Citizens who filed them', c.citizens],
      ]),
      card('complaintsByDepartment', 'Complaints by department', c.byDepartment.total, 'complaints', breakdownBars(c.byDepartment)),
      card('complaintsByWard', 'Complaints by ward', c.byWard.total, 'complaints', breakdownBars(c.byWard)),
      card(
        'complaintsOverTime',
        `Complaints per ${c.overTime.interval} (last change)`,
        c.overTime.total,
        'complaints',
        lineChart(c.overTime.points, c.overTime.interval),
      ),
      card(
        'slaBreaches',
        'SLA breaches',
        sla.breaches,
        `breaches · ${slaText}`,
        barChart([
          { label: 'Closed late', value: sla.closedLate, text: count(sla.closedLate) },
          { label: 'Open past SLA', value: sla.openOverdue, text: count(sla.openOverdue) },
        ]),
        [
          ['closedWithinSla', `Closed within SLA (of ${count(sla.closed)} closed)`, sla.closedWithinSla],
          ['averageResolutionHours', 'Average resolution time (hours)', c.resolution.averageHours ?? '–'],
        ],
      ),
      card(
        'paymentInstructionsByStatus',
        'Payment instructions by status',
        s.paymentInstructions.count,
        'payment instructions',
        statusBars(s.paymentInstructions),
        [
          ['paymentInstructionsGrossAmount', 'Gross amount (₹)', s.paymentInstructions.grossAmount],
          ['paymentInstructionsNetAmount', 'Net amount (₹)', s.paymentInstructions.netAmount],
        ],
      ),
      card(
        'disbursementsByStatus',
        'Disbursements by status',
        s.disbursements.count,
        'disbursements',
        statusBars(s.disbursements),
        [
          ['disbursementsGrossAmount', 'Gross amount (₹)', s.disbursements.grossAmount],
          ['disbursementsNetAmount', 'Net amount (₹)', s.disbursements.netAmount],
        ],
      ),
      card(
        'fundsByProgramAndHead',
        `Funds per program and head of account (${hoa})`,
        s.funds.sanctions,
        'sanctions · current balances, whatever the dates',
        groupedBars(
          s.funds.rows.map((r) => ({
            label: `${r.programCode ?? '(no program)'} · ${r.headOfAccount ?? '(no head)'}`,
            values: [Number(r.sanctioned), Number(r.allocated), Number(r.available)],
          })),
          [
            { name: 'Sanctioned', cls: 's0' },
            { name: 'Allocated', cls: 's1' },
            { name: 'Available', cls: 's2' },
          ],
          rupees,
        ),
        [
          ['fundsSanctioned', 'Sanctioned (₹)', s.funds.sanctioned],
          ['fundsAllocated', 'Allocated (₹)', s.funds.allocated],
          ['fundsAvailable', 'Available (₹)', s.funds.available],
        ],
      ),
      card(
        'exchangeMessagesPerDay',
        'Messages through the exchange per day',
        s.exchange.perDay.total,
        'messages',
        lineChart(s.exchange.perDay.points, 'day'),
      ),
    ];
    document.getElementById('charts').replaceChildren(...cards);
    const range = [s.fromDate, s.toDate].map((d) => (d == null ? '…' : new Date(d).toISOString().slice(0, 10)));
    document.getElementById('status').textContent =
      `${s.tenantId ?? 'All tenants'} · ${range[0]} to ${range[1]} · as of ${new Date(s.asOf).toISOString()}`;
    document.body.dataset.state = 'ready';
  };

  const fail = (text) => {
    document.getElementById('status').textContent = text;
    document.body.dataset.state = 'error';
  };

  const load = () => {
    const q = new URLSearchParams(window.location.search);
    const tenantId = (q.get('tenantId') || '').trim();
    const from = q.get('from') || '';
    const to = q.get('to') || '';
    document.getElementById('tenantId').value = tenantId;
    document.getElementById('from').value = from;
    document.getElementById('to').value = to;
    const body = { tenantId: tenantId || null, fromDate: dayStart(from), toDate: dayEnd(to) };
    if ([body.fromDate, body.toDate].some((d) => Number.isNaN(d))) {
      fail('The dates must be YYYY-MM-DD.');
      return;
    }
    fetch(document.body.dataset.api, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
      .then((r) => r.json().then((json) => ({ ok: r.ok, json })))
      .then(({ ok, json }) => {
        if (ok) {
          render(json);
        } else {
          const e = (json.Errors && json.Errors[0]) || {};
          fail(`${e.code || 'ERROR'}: ${e.message || 'the figures could not be loaded'}`);
        }
      })
      .catch((e) => fail(`The figures could not be loaded: ${e}`));
  };

  document.addEventListener('DOMContentLoaded', load);
})();
