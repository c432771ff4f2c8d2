export * from './openloop.js';
export * from './report.js';
export * from './bench.js';
export * from './sampler.js';
export * from './seedload.js';
export * from './replica.js';
export * from './architecture.js';
