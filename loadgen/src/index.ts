export * from './tweets.js';
export * from './load.js';
export * from './stats.js';
export * from './summary.js';
