export * from './config.js';
export * from './log.js';
export * from './lifecycle.js';
export * from './health.js';
export * from './batcher.js';
export * from './window.js';
export * from './metrics.js';
