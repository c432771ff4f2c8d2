import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOverrides, PROFILES, SETTINGS } from '../src/profiles.js';
import { tuning } from '../src/components.js';

test('every setting of every profile is one its service reads', () => {
  for (const [name, overrides] of Object.entries(PROFILES)) checkOverrides(overrides, `profile ${name}`);
  assert.ok(SETTINGS['ingest-api'].includes('FORWARD_MODE'));
  assert.ok(SETTINGS['writer-rabbitmq'].includes('RABBITMQ_MESSAGE'));
});

test('a setting no service reads, or an unknown service, is an error naming each, not silence', () => {
  assert.throws(
    () => checkOverrides({ 'ingest-api': { FORWARD_MODES: 'single' }, dispatcher: { BATCH_TRANSPORT: 'call' } }, 'profile x'),
    /ingest-api\.FORWARD_MODES: no such setting; dispatcher\.BATCH_TRANSPORT: no such setting/,
  );
  assert.throws(() => checkOverrides({ 'api-gateway': {} }, 'STACK_ENV'), /api-gateway: no such service/);
  assert.throws(
    () => tuning({ STACK_ENV: '{"kafka-consumer":{"FETCH_MIN_BYTE":"1"}}' }),
    /STACK_ENV: kafka-consumer\.FETCH_MIN_BYTE: no such setting/,
  );
  assert.deepEqual(tuning({ STACK_ENV: '{"kafka-consumer":{"FETCH_MIN_BYTES":"1"}}' }), { 'kafka-consumer': { FETCH_MIN_BYTES: '1' } });
});
