/**
 * The report's Kubernetes-level figure (docs/report/architecture.svg): the namespaces, the workloads in each,
 * and the flows one tweet takes, drawn from the table below. Every box names the objects of the manifests it
 * stands for (`refs`, "Kind namespace/name"), and a test builds deploy/k8s and checks that each one exists
 * (test/integration/architecture.test.ts), so the figure cannot name a workload the manifests do not have.
 */

type Lang = 'en' | 'es';
const L = (lang: Lang, en: string, es: string) => (lang === 'en' ? en : es);

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

export const BOXES: Box[] = [
  {
    id: 'locust',
    col: 0,
    row: 0,
    label: ['Locust', 'Locust'],
    note: ['Job, 10 users', 'Job, 10 usuarios'],
    refs: ['Job loadtest/locust'],
    from: 'components/locust',
  },
  {
    id: 'ingress',
    col: 1,
    row: 0,
    label: ['NGINX ingress', 'Ingress NGINX'],
    note: ['Ingress weather-tweets', 'Ingress weather-tweets'],
    refs: ['Ingress tweets/weather-tweets', 'Namespace /nginx-ingress'],
  },
  {
    id: 'api',
    col: 2,
    row: 0,
    label: ['ingest-api', 'ingest-api'],
    note: ['HPA 1-3, REST', 'HPA 1-3, REST'],
    refs: ['Deployment tweets/ingest-api', 'HorizontalPodAutoscaler tweets/ingest-api', 'Service tweets/ingest-api'],
  },
  {
    id: 'dispatcher',
    col: 2,
    row: 1,
    label: ['dispatcher', 'dispatcher'],
    note: ['REST in, gRPC out', 'REST entra, gRPC sale'],
    refs: ['Deployment tweets/dispatcher', 'Service tweets/dispatcher'],
  },
  {
    id: 'writer-kafka',
    col: 3,
    row: 0,
    label: ['writer-kafka', 'writer-kafka'],
    note: ['gRPC server', 'servidor gRPC'],
    refs: ['Deployment tweets/writer-kafka', 'Service tweets/writer-kafka'],
  },
  {
    id: 'writer-rabbitmq',
    col: 3,
    row: 1,
    label: ['writer-rabbitmq', 'writer-rabbitmq'],
    note: ['gRPC server', 'servidor gRPC'],
    refs: ['Deployment tweets/writer-rabbitmq', 'Service tweets/writer-rabbitmq'],
  },
  {
    id: 'kafka',
    col: 4,
    row: 0,
    label: ['Kafka (Strimzi)', 'Kafka (Strimzi)'],
    note: ['3 nodes, topic ×3', '3 nodos, tópico ×3'],
    refs: ['Kafka kafka/tweets', 'KafkaNodePool kafka/dual', 'KafkaTopic kafka/weather-tweets'],
  },
  {
    id: 'rabbitmq',
    col: 4,
    row: 1,
    label: ['RabbitMQ', 'RabbitMQ'],
    note: ['3 nodes, quorum queue', '3 nodos, quorum queue'],
    refs: ['RabbitmqCluster rabbitmq/rabbitmq', 'Job rabbitmq/rabbitmq-app-user'],
  },
  {
    id: 'kafka-consumer',
    col: 5,
    row: 0,
    label: ['kafka-consumer', 'kafka-consumer'],
    note: ['counts once per id', 'cuenta una vez por id'],
    refs: ['Deployment tweets/kafka-consumer'],
  },
  {
    id: 'rabbitmq-consumer',
    col: 5,
    row: 1,
    label: ['rabbitmq-consumer', 'rabbitmq-consumer'],
    note: ['counts once per id', 'cuenta una vez por id'],
    refs: ['Deployment tweets/rabbitmq-consumer'],
  },
  {
    id: 'valkey-0',
    col: 6,
    row: 0,
    label: ['valkey-0', 'valkey-0'],
    note: ['primary, AOF', 'primario, AOF'],
    refs: ['StatefulSet valkey/valkey', 'Service valkey/valkey'],
  },
  {
    id: 'valkey-1',
    col: 6,
    row: 1,
    label: ['valkey-1', 'valkey-1'],
    note: ['replica', 'réplica'],
    refs: ['StatefulSet valkey/valkey', 'Service valkey/valkey-read'],
  },
  {
    id: 'grafana',
    col: 1,
    row: 2,
    label: ['Grafana', 'Grafana'],
    note: ['Ingress /grafana', 'Ingress /grafana'],
    refs: ['Ingress monitoring/grafana'],
  },
  {
    id: 'zot',
    col: 0,
    row: 2,
    label: ['Zot (a VM)', 'Zot (una VM)'],
    note: ['images, load file', 'imágenes, archivo de carga'],
    refs: [],
    outside: true,
  },
];

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
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
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
