export * from './keys.js';
export * from './store.js';
export * from './client.js';
export * from './config.js';
export * from './stats.js';
