/** What the image tests use: building and running images, the local registry, and the stack's components and probes. */
export * from './images.js';
export { ensureRegistry, runningRegistry, servedDigest, stopRegistry, type Registry } from './registry.js';
export { components, type Component } from './components.js';
export { grpcServing, httpReady } from './probes.js';
