import { test } from 'node:test';
import assert from 'node:assert/strict';
import { components } from '../src/components.js';
import { layout, stackNames } from '../src/layout.js';
import { planConflicts, portPlan, STACK_PORTS, type PlanEntry } from '../src/ports.js';

const PORT_VARS = [
  'PORT',
  'GRPC_PORT',
  'METRICS_PORT',
  'HEALTH_PORT',
  'VIEW_PORT',
  'RABBITMQ_NODE_PORT',
  'RABBITMQ_DIST_PORT',
  'ERL_EPMD_PORT',
];

test('the port plan: no two owners (stacks, containers, registry, validation, cluster, tools) share a port, all below the ephemeral range', () => {
  assert.deepEqual(planConflicts(), []);
  assert.ok(portPlan().length >= 8, 'every owner is in the plan');
});

test('the plan check names both owners of a shared port, and a port outside 1025-32767', () => {
  const plan: PlanEntry[] = [
    { owner: 'stack a', ports: [{ port: 9000, what: 'api' }] },
    {
      owner: 'stack b',
      ports: [
        { port: 9000, what: 'kafka' },
        { port: 40000, what: 'valkey' },
      ],
    },
  ];
  assert.deepEqual(planConflicts(plan), ['9000: stack a: api and stack b: kafka', 'stack b: valkey is 40000, outside 1025-32767']);
});

test("every port a stack's processes are given, with the most writers and APIs and three nodes per broker, is one the plan gives that stack", () => {
  for (const name of stackNames()) {
    const l = layout(name);
    assert.deepEqual(l.ports, STACK_PORTS[name as keyof typeof STACK_PORTS]);
    const planned = new Set(
      portPlan()
        .find((e) => e.owner === `stack ${name}`)!
        .ports.map((p) => p.port),
    );
    for (const c of components(l, { writers: 4, apis: 3, replicated: true })) {
      for (const v of PORT_VARS)
        if (c.env[v]) assert.ok(planned.has(Number(c.env[v])), `${name}: ${c.name} ${v}=${c.env[v]} is in the plan`);
    }
  }
});
