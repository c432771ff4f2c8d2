/**
 * The report's Kubernetes-level figure (docs/report/architecture.svg): the namespaces, the workloads in each,
 * and the flows one tweet takes, drawn from the table below. Every box names the objects of the manifests it
 * stands for (`refs`, "Kind namespace/name"), and a test builds deploy/k8s and checks that each one exists
 * (bench/test/integration/architecture.test.ts), so the figure cannot name a workload the manifests do not have.
 */
import { esc, L, type Lang } from './markdown.js';

/** A namespace's frame: its name and its place (columns and rows of the grid below). */
interface Frame {
  name: string;
  col: number;
  row: number;
  cols: number;
  rows: number;
}

/** A box: a workload (or an outside part), where it is drawn, its label, and the manifests' objects it stands for. */
export interface Box {
  id: string;
  col: number;
  row: number;
  label: [string, string];
  note?: [en: string, es: string];
  /** "Kind namespace/name" of each object it draws, in deploy/k8s/base or the component named in `from`. */
  refs: string[];
  /** The kustomize folder its refs are in, under deploy/k8s, when not the base (a component). */
  from?: string;
  outside?: boolean;
}

export const FRAMES: Frame[] = [
  { name: 'loadtest', col: 0, row: 0, cols: 1, rows: 1 },
  { name: 'nginx-ingress', col: 1, row: 0, cols: 1, rows: 1 },
  { name: 'tweets', col: 2, row: 0, cols: 2, rows: 2 },
  { name: 'kafka', col: 4, row: 0, cols: 1, rows: 1 },
  { name: 'rabbitmq', col: 4, row: 1, cols: 1, rows: 1 },
  { name: 'tweets', col: 5, row: 0, cols: 1, rows: 2 },
  { name: 'valkey', col: 6, row: 0, cols: 1, rows: 2 },
  { name: 'monitoring', col: 1, row: 2, cols: 1, rows: 1 },
];

/** Text the same in both languages, or [English, Spanish]. */
type Text = string | [en: string, es: string];
const both = (t: Text): [string, string] => (typeof t === 'string' ? [t, t] : t);

/** One row per box: id, column, row, label, note, its objects ("Kind namespace/name", comma-separated), and the rest. */
const ROWS: [string, number, number, Text, Text, string, Partial<Box>?][] = [
  ['locust', 0, 0, 'Locust', ['Job, 10 users', 'Job, 10 usuarios'], 'Job loadtest/locust', { from: 'components/locust' }],
  [
    'ingress',
    1,
    0,
    ['NGINX ingress', 'Ingress NGINX'],
    'Ingress weather-tweets',
    'Ingress tweets/weather-tweets, Namespace /nginx-ingress',
  ],
  [
    'api',
    2,
    0,
    'ingest-api',
    'HPA 1-3, REST',
    'Deployment tweets/ingest-api, HorizontalPodAutoscaler tweets/ingest-api, Service tweets/ingest-api',
  ],
  [
    'dispatcher',
    2,
    1,
    'dispatcher',
    ['REST in, gRPC out', 'REST entra, gRPC sale'],
    'Deployment tweets/dispatcher, Service tweets/dispatcher',
  ],
  ['writer-kafka', 3, 0, 'writer-kafka', ['gRPC server', 'servidor gRPC'], 'Deployment tweets/writer-kafka, Service tweets/writer-kafka'],
  [
    'writer-rabbitmq',
    3,
    1,
    'writer-rabbitmq',
    ['gRPC server', 'servidor gRPC'],
    'Deployment tweets/writer-rabbitmq, Service tweets/writer-rabbitmq',
  ],
  [
    'kafka',
    4,
    0,
    'Kafka (Strimzi)',
    ['3 nodes, topic ×3', '3 nodos, tópico ×3'],
    'Kafka kafka/tweets, KafkaNodePool kafka/dual, KafkaTopic kafka/weather-tweets',
  ],
  [
    'rabbitmq',
    4,
    1,
    'RabbitMQ',
    ['3 nodes, quorum queue', '3 nodos, quorum queue'],
    'RabbitmqCluster rabbitmq/rabbitmq, Job rabbitmq/rabbitmq-app-user',
  ],
  ['kafka-consumer', 5, 0, 'kafka-consumer', ['counts once per id', 'cuenta una vez por id'], 'Deployment tweets/kafka-consumer'],
  ['rabbitmq-consumer', 5, 1, 'rabbitmq-consumer', ['counts once per id', 'cuenta una vez por id'], 'Deployment tweets/rabbitmq-consumer'],
  ['valkey-0', 6, 0, 'valkey-0', ['primary, AOF', 'primario, AOF'], 'StatefulSet valkey/valkey, Service valkey/valkey'],
  ['valkey-1', 6, 1, 'valkey-1', ['replica', 'réplica'], 'StatefulSet valkey/valkey, Service valkey/valkey-read'],
  ['grafana', 1, 2, 'Grafana', 'Ingress /grafana', 'Ingress monitoring/grafana'],
  ['zot', 0, 2, ['Zot (a VM)', 'Zot (una VM)'], ['images, load file', 'imágenes, archivo de carga'], '', { outside: true }],
];

export const BOXES: Box[] = ROWS.map(([id, col, row, label, note, refs, rest]) => ({
  id,
  col,
  row,
  label: both(label),
  note: both(note),
  refs: refs ? refs.split(', ') : [],
  ...rest,
}));

/** The flows: from, to, and what travels (drawn on the line where there is room). */
export const FLOWS: [string, string, string?][] = [
  ['locust', 'ingress', 'HTTP'],
  ['ingress', 'api'],
  ['api', 'dispatcher', 'HTTP'],
  ['dispatcher', 'writer-kafka', 'gRPC'],
  ['dispatcher', 'writer-rabbitmq', 'gRPC'],
  ['writer-kafka', 'kafka'],
  ['writer-rabbitmq', 'rabbitmq'],
  ['kafka', 'kafka-consumer'],
  ['rabbitmq', 'rabbitmq-consumer'],
  ['kafka-consumer', 'valkey-0'],
  ['rabbitmq-consumer', 'valkey-0'],
  ['valkey-0', 'valkey-1'],
  ['grafana', 'ingress', '/stats'],
  ['zot', 'locust', 'OCI'],
];

const CELL = { w: 150, h: 86, padX: 18, padY: 26 };
const BOX = { w: 124, h: 52 };
const TOP = 40;
const cellX = (col: number) => 10 + col * CELL.w;
const cellY = (row: number) => TOP + row * CELL.h;
const boxXY = (b: Box) => ({ x: cellX(b.col) + (CELL.w - BOX.w) / 2, y: cellY(b.row) + CELL.padY });

/** The figure, in one language. */
export function architectureSvg(lang: Lang = 'en'): string {
  const width = cellX(7) + 10;
  const height = cellY(3) + 20;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    '<defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(L(lang, 'The system on Kubernetes: namespaces, workloads and the flow of one tweet', 'El sistema en Kubernetes: namespaces, cargas de trabajo y el camino de un tweet'))}</text>`,
  ];
  for (const f of FRAMES) {
    const x = cellX(f.col) + 4;
    const y = cellY(f.row) + 4;
    out.push(
      `<rect x="${x}" y="${y}" width="${f.cols * CELL.w - 8}" height="${f.rows * CELL.h - 8}" rx="8" fill="#f4f7fb" stroke="#9ab"/>`,
    );
    out.push(`<text x="${x + 6}" y="${y + 14}" fill="#456" font-style="italic">ns ${esc(f.name)}</text>`);
  }
  const byId = new Map(BOXES.map((b) => [b.id, b]));
  for (const [from, to, what] of FLOWS) {
    const a = boxXY(byId.get(from)!);
    const b = boxXY(byId.get(to)!);
    const [x1, y1, x2, y2] = edge(a, b);
    out.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#555" stroke-width="1.3" marker-end="url(#a)"/>`);
    if (what) out.push(`<text x="${(x1 + x2) / 2 + 3}" y="${(y1 + y2) / 2 - 3}" fill="#555" font-size="10">${esc(what)}</text>`);
  }
  for (const b of BOXES) {
    const { x, y } = boxXY(b);
    const fill = b.outside ? '#fff4e0' : '#ffffff';
    out.push(
      `<rect x="${x}" y="${y}" width="${BOX.w}" height="${BOX.h}" rx="5" fill="${fill}" stroke="#345" stroke-dasharray="${b.outside ? '4 3' : ''}"/>`,
    );
    out.push(`<text x="${x + BOX.w / 2}" y="${y + 21}" text-anchor="middle" font-weight="bold">${esc(L(lang, ...b.label))}</text>`);
    if (b.note) out.push(`<text x="${x + BOX.w / 2}" y="${y + 38}" text-anchor="middle" fill="#444">${esc(L(lang, ...b.note))}</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** A line from one box's side to the other's, leaving and entering where they face each other. */
function edge(a: { x: number; y: number }, b: { x: number; y: number }): [number, number, number, number] {
  const ca = { x: a.x + BOX.w / 2, y: a.y + BOX.h / 2 };
  const cb = { x: b.x + BOX.w / 2, y: b.y + BOX.h / 2 };
  const dx = cb.x - ca.x;
  const dy = cb.y - ca.y;
  if (Math.abs(dx) >= Math.abs(dy) * (BOX.w / BOX.h) * 0.5 && dx !== 0) {
    const sx = Math.sign(dx) * (BOX.w / 2);
    return [ca.x + sx, ca.y, cb.x - sx, cb.y];
  }
  const sy = Math.sign(dy) * (BOX.h / 2);
  return [ca.x, ca.y + sy, cb.x, cb.y - sy];
}
