export * from './topology.js';
export * from './kafka.js';
export * from './rabbitmq.js';
export * from './config.js';
