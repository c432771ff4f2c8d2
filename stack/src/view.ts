/**
 * The live view: the seed's bar chart without a cluster. While the local
 * stack runs, `http://127.0.0.1:8088/` shows the reports per weather
 * condition for a chosen municipality, one bar per broker path side by side,
 * refreshed every 2 s from the API's GET /stats/breakdown (the numbers come
 * from Valkey). Loopback only; no dependency beyond Node.js.
 *
 * Run by the stack as the component `view` (node stack/dist/src/view.js,
 * VIEW_PORT and API_URL from the environment).
 */
import { createServer } from 'node:http';
import { domainFromEnv, weather, type Domain, type EnumField } from '@tweets/domain';

/** What the page needs to know of the domain: its groups, counted values and paths, from the one definition. */
export function viewConfig(d: Domain) {
  return {
    title: d.countBy === d.groupBy ? `Reports per ${d.groupBy}` : `Reports per ${d.countBy} condition`,
    group: d.groupBy,
    groups: (d.fields[d.groupBy] as EnumField).values,
    counted: d.countBy,
    values: (d.fields[d.countBy] as EnumField).values,
    paths: d.paths,
    groupByIdDigit: d.groupByIdDigit ?? [],
  };
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Weather reports</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font: 15px system-ui, sans-serif; margin: 24px; color: #1f2328; background: #fff; }
 h1 { font-size: 20px; margin: 0 0 4px; } p { margin: 4px 0 12px; color: #59636e; }
 select { font: inherit; padding: 2px 6px; } .legend span { display: inline-block; margin-right: 16px; }
 .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; }
 #status { color: #59636e; font-size: 13px; } #status.error { color: #cf222e; }
</style></head>
<body>
<h1 id="title"></h1>
<p><label><span id="grouplabel"></span>: <select id="group"></select></label> <span id="rule"></span></p>
<div class="legend" id="legend"></div>
<svg id="chart" width="900" height="420" role="img" aria-label="bar chart"></svg>
<div id="status">loading...</div>
<script>
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];
let cfg;
const el = (id) => document.getElementById(id);
function draw(rows) {
  const svg = el('chart'); const W = 900, H = 420, left = 50, bottom = 40, top = 20;
  const max = Math.max(1, ...rows.flatMap((r) => cfg.paths.map((p) => r[p])));
  const groupW = (W - left - 10) / rows.length; const barW = groupW * 0.7 / cfg.paths.length;
  let out = '';
  for (let t = 0; t <= 4; t++) {
    const v = Math.round(max * t / 4); const y = H - bottom - (H - bottom - top) * t / 4;
    out += '<line x1="' + left + '" x2="' + W + '" y1="' + y + '" y2="' + y + '" stroke="#d0d7de"/>';
    out += '<text x="' + (left - 6) + '" y="' + (y + 4) + '" text-anchor="end" font-size="11" fill="#59636e">' + v + '</text>';
  }
  rows.forEach((r, i) => {
    const x0 = left + i * groupW + groupW * 0.15;
    cfg.paths.forEach((p, j) => {
      const n = r[p]; const h = (H - bottom - top) * n / max; const x = x0 + j * barW; const y = H - bottom - h;
      out += '<rect class="bar" data-' + cfg.counted + '="' + r[cfg.counted] + '" data-path="' + p + '" data-count="' + n + '" x="' + x + '" y="' + y + '" width="' + (barW - 4) + '" height="' + h + '" fill="' + COLORS[j % COLORS.length] + '"/>';
      out += '<text x="' + (x + (barW - 4) / 2) + '" y="' + (y - 4) + '" text-anchor="middle" font-size="12">' + n + '</text>';
    });
    out += '<text x="' + (x0 + groupW * 0.35) + '" y="' + (H - bottom + 18) + '" text-anchor="middle">' + r[cfg.counted] + '</text>';
  });
  svg.innerHTML = out;
}
async function refresh() {
  const g = el('group').value;
  try {
    const res = await fetch('/api/stats/breakdown?group=' + encodeURIComponent(g));
    if (!res.ok) throw new Error('the API answered ' + res.status);
    draw(await res.json());
    el('status').className = ''; el('status').textContent = 'updated ' + new Date().toLocaleTimeString() + ' from GET /stats/breakdown (Valkey)';
  } catch (e) { el('status').className = 'error'; el('status').textContent = 'no data: ' + e.message; }
}
(async () => {
  cfg = await (await fetch('/config.json')).json();
  el('title').textContent = cfg.title; document.title = cfg.title;
  el('grouplabel').textContent = cfg.group;
  const want = new URLSearchParams(location.search).get('group');
  for (const g of cfg.groups) { const o = document.createElement('option'); o.value = o.textContent = g; if (g === want) o.selected = true; el('group').appendChild(o); }
  if (cfg.groupByIdDigit.length) el('rule').textContent = '(by the last digit of the student id: ' + cfg.groups.map((g) => cfg.groupByIdDigit.flatMap((x, i) => x === g ? [i] : []).join(',') + ' ' + g).join('; ') + ')';
  el('legend').innerHTML = cfg.paths.map((p, j) => '<span><i style="background:' + COLORS[j % COLORS.length] + '"></i>' + p + '</span>').join('');
  el('group').onchange = refresh;
  await refresh();
  setInterval(refresh, 2000);
})();
</script>
</body></html>
`;

/** Serves the page, its config, and /api/* proxied to the API (same origin, so the page needs no CORS). */
export function startView(port: number, apiUrl: string, d: Domain = weather) {
  const config = JSON.stringify(viewConfig(d));
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/' || url.startsWith('/?')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE);
    } else if (url === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(config);
    } else if (url.startsWith('/api/stats/breakdown?') && req.method === 'GET') {
      fetch(`${apiUrl}${url.slice(4)}`, { signal: AbortSignal.timeout(5000) })
        .then(async (r) =>
          res
            .writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' })
            .end(await r.text()),
        )
        .catch((e: Error) => res.writeHead(502, { 'content-type': 'text/plain' }).end(`the API did not answer: ${e.message}\n`));
    } else if (url === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  return new Promise<typeof server>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

// As the stack's component: node stack/dist/src/view.js
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const port = Number(process.env.VIEW_PORT ?? 8088);
  const api = process.env.API_URL ?? 'http://127.0.0.1:8080';
  const server = await startView(port, api, domainFromEnv());
  console.log(JSON.stringify({ level: 30, msg: `live view on http://127.0.0.1:${port}/ (API ${api})` }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
