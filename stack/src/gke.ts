/** The checks of deploy/ that every cloud shares moved to ./cloud.ts; this name stays for its importers. */
export * from './cloud.js';
