import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, ensureK8sTools, K8S_DIR, objectsOf } from '@tweets/stack/k8s';
import { forLocalNode, INGRESS_CONF, NODE, nginxConf, routes } from '@tweets/stack/cluster';

/**
 * deploy/k8s/overlays/local against the base it changes: what it puts in place of the operators' resources
 * has the names, Services, ports and topics they would create; everything else of the base is there as it
 * is; its NGINX config is what the base's Ingresses give. The build is taken as `npm run cluster` applies it
 * (forLocalNode: the operators' custom resources left out, the topics Job given the KafkaTopics).
 */

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
};
const objects = (yaml: string) => objectsOf<Obj>(yaml);
const key = (o: Obj) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
let base: Obj[];
let local: Obj[];
let blackfriday: Obj[];

before(() => {
  const t = ensureK8sTools((m) => console.log(`# ${m}`));
  base = objects(build(t.kubectl, join(K8S_DIR, 'base')));
  local = forLocalNode(objects(build(t.kubectl, join(K8S_DIR, 'overlays', 'local'))));
  blackfriday = forLocalNode(objects(build(t.kubectl, join(K8S_DIR, 'overlays', 'local-blackfriday'))));
});

test('the local overlay keeps every workload, Service, HPA, PDB, NetworkPolicy, ConfigMap and Job of the base; only the operators’ resources go', () => {
  const operators = ['kafka.strimzi.io', 'rabbitmq.com', 'kubevirt.io'];
  const kept = new Set(local.map(key));
  for (const o of base) {
    const ofOperator = operators.includes(o.apiVersion.split('/')[0]!);
    assert.equal(kept.has(key(o)), !ofOperator, `${key(o)} ${ofOperator ? 'is replaced' : 'is kept'}`);
  }
  const api = (objs: Obj[]) => objs.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'ingest-api')!.spec;
  assert.deepEqual(api(local), api(base), "the API's HPA as the base has it");
});

test('Kafka and RabbitMQ by the names, Services, labels and topics the operators would give them', () => {
  const svc = (ns: string, name: string) =>
    local.find((o) => o.kind === 'Service' && o.metadata.namespace === ns && o.metadata.name === name);
  assert.equal(svc('kafka', 'tweets-kafka-bootstrap')?.spec.ports[0].port, 9092, "Strimzi's bootstrap Service");
  assert.equal(svc('rabbitmq', 'rabbitmq')?.spec.ports[0].port, 5672, "the RabbitMQ operator's client Service");
  assert.ok(svc('rabbitmq', 'rabbitmq-nodes'), "the headless Service the base's app-user Job dials the node under");
  const kafka = local.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'tweets-dual')!;
  assert.equal(
    kafka.spec.template.metadata.labels['strimzi.io/cluster'],
    'tweets',
    "the label the base's Kafka clients' NetworkPolicy selects",
  );
  const rabbit = local.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'rabbitmq-server')!;
  assert.equal(rabbit.spec.template.metadata.labels['app.kubernetes.io/name'], 'rabbitmq');
  // the topics: the base's KafkaTopics, their replicas bounded by the local node's brokers
  const brokers = Number(kafka.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'KAFKA_REPLICAS').value);
  const job = local.find((o) => o.kind === 'Job' && o.metadata.name === 'kafka-topics')!;
  const env = job.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'TOPICS').value as string;
  const topics = env
    .split(/\s+/)
    .filter(Boolean)
    .map((t) => t.split(':'));
  const wanted = base
    .filter((o) => o.kind === 'KafkaTopic')
    .map((t) => {
      const rf = Math.min(t.spec.replicas, brokers);
      const config = { ...t.spec.config, 'min.insync.replicas': Math.min(t.spec.config['min.insync.replicas'], rf) };
      return [
        t.spec.topicName ?? t.metadata.name,
        String(t.spec.partitions),
        String(rf),
        Object.entries(config)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      ];
    });
  assert.deepEqual(topics.sort(), wanted.sort(), 'name, partitions, replicas and settings of each KafkaTopic');
});

test("the local ingress's NGINX config is what the base's Ingresses give (npm run cluster -- ingress rewrites it)", () => {
  const conf = nginxConf(routes(local as never));
  assert.equal(readFileSync(INGRESS_CONF, 'utf8'), conf);
  assert.match(conf, /location \/ \{[^}]*proxy_pass http:\/\/tweets-ingest-api-8080;/, "the API's route");
  assert.match(conf, /client_max_body_size 1m;/, 'the annotations of the Ingress');
  assert.doesNotMatch(conf, /grafana/, 'a route to a Service the local node does not run is left out');
});

test('the Black Friday local overlay: its Kafka topics, no RabbitMQ, the sales services of components/blackfriday', () => {
  const kinds = (ns: string) => blackfriday.filter((o) => o.metadata.namespace === ns).map((o) => o.kind);
  assert.deepEqual(
    kinds('rabbitmq').filter((k) => k === 'StatefulSet' || k === 'Service'),
    [],
    'no RabbitMQ to run: the sales go through Kafka only',
  );
  const job = blackfriday.find((o) => o.kind === 'Job' && o.metadata.name === 'kafka-topics')!;
  const topics = (job.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'TOPICS').value as string)
    .split(/\s+/)
    .map((t) => t.split(':')[0] ?? '');
  const names = blackfriday.filter((o) => o.kind === 'KafkaTopic').length;
  assert.equal(names, 0, 'the custom resources are left out at apply');
  assert.ok(topics.length > 0 && topics.every((t) => !t.startsWith('weather')), `the sales topics, not the weather's: ${topics.join(' ')}`);
  assert.ok(
    blackfriday.some((o) => o.kind === 'HorizontalPodAutoscaler'),
    'the sales HPAs',
  );
});

test("every fixed Service address is one of the node plan's, in the range's static band (no Service created before it can take it)", () => {
  const fixed = local.filter((o) => o.kind === 'Service' && o.spec.clusterIP && o.spec.clusterIP !== 'None');
  const byName = Object.fromEntries(fixed.map((o) => [o.metadata.name, o.spec.clusterIP as string]));
  assert.deepEqual(byName, { 'nginx-ingress-controller': NODE.ingressIp, registry: NODE.registryIp });
  const [net] = NODE.serviceCidr.split('/');
  for (const ip of Object.values(byName)) {
    const offset = Number(ip.split('.')[3]) - Number(net!.split('.')[3]);
    assert.ok(offset >= 1 && offset <= 16, `${ip} is among the first 16 addresses of ${NODE.serviceCidr}`);
  }
});
