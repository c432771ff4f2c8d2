import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dial, k, kubectl } from './helpers.js';

// NetworkPolicies are enforced (kube-router): a flow the architecture has passes, one it has not is
// dropped, from a pod of the application and from a pod outside its namespaces.

const VALKEY = 'valkey.valkey.svc.cluster.local';
const KAFKA = 'tweets-kafka-bootstrap.kafka.svc.cluster.local';

after(() => {
  kubectl(['delete', 'namespace', 'outside', '--ignore-not-found', '--wait=false']);
});

test('allowed flows pass: the API to Valkey, the Kafka writer to Kafka', () => {
  assert.equal(dial('tweets', 'deploy/ingest-api', VALKEY, 6379), 'connected');
  assert.equal(dial('tweets', 'deploy/writer-kafka', KAFKA, 9092), 'connected');
});

test('forbidden flows are refused: the API to Kafka, a pod outside the application to Valkey', () => {
  assert.equal(dial('tweets', 'deploy/ingest-api', KAFKA, 9092), 'refused', 'the API is no Kafka client');
  // a pod in a namespace of its own, from the API's image (it has Node.js), doing nothing but wait
  const image = k('-n', 'tweets', 'get', 'deploy/ingest-api', '-o', 'jsonpath={.spec.template.spec.containers[0].image}');
  k('delete', 'namespace', 'outside', '--ignore-not-found', '--wait=true', '--timeout=300s');
  k('create', 'namespace', 'outside');
  k(
    '-n',
    'outside',
    'run',
    'probe',
    `--image=${image}`,
    '--image-pull-policy=IfNotPresent',
    '--restart=Never',
    '--command',
    '--',
    'node',
    '-e',
    'setInterval(() => {}, 1e6)',
  );
  k('-n', 'outside', 'wait', '--for=condition=Ready', 'pod/probe', '--timeout=180s');
  assert.equal(dial('outside', 'probe', VALKEY, 6379), 'refused', 'Valkey takes its clients in the application only');
  assert.equal(
    dial('outside', 'probe', 'ingest-api.tweets.svc.cluster.local', 8080),
    'refused',
    'the API takes the ingress and Prometheus only',
  );
});

test("the node's network stays inside the machine: a pod reaches no address outside it", () => {
  // the machine's own gateway and a public address: the pods' routes go to the cluster's ranges only (no
  // default route, no masquerade), whatever the policies say (the probe runs in a namespace without any)
  const gateway = execFileSync('ip', ['-4', 'route', 'show', 'default'], { encoding: 'utf8' }).split(' ')[2] ?? '192.0.2.1';
  for (const ip of [gateway, '1.1.1.1']) assert.equal(dial('outside', 'probe', ip, 443), 'refused', `${ip} is out of reach`);
});
