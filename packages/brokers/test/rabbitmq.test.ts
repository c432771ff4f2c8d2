import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeUrls } from '../src/rabbitmq.js';

test("a RabbitMQ URL names one node or a cluster's nodes, comma-separated, each with a heartbeat unless it sets one", () => {
  assert.deepEqual(nodeUrls('amqp://u:p@127.0.0.1:5672'), ['amqp://u:p@127.0.0.1:5672?heartbeat=10']);
  assert.deepEqual(nodeUrls('amqp://u:p@a:5672, amqp://u:p@b:5673?heartbeat=5,amqps://u:p@c'), [
    'amqp://u:p@a:5672?heartbeat=10',
    'amqp://u:p@b:5673?heartbeat=5',
    'amqps://u:p@c?heartbeat=10',
  ]);
  assert.throws(() => nodeUrls('amqp://u:p@a:5672,not a url'), /Invalid URL/);
});
