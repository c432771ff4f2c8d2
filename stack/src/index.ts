export {
  CLUSTER_PORTS,
  CONTAINER_PORTS,
  planConflicts,
  portPlan,
  STACK_PORTS,
  TOOL_PORTS,
  type PlanEntry,
  type StackPorts,
} from './ports.js';
export { scratchDir, tempDir, valkeyServer } from './roots.js';
export { pins } from './provision.js';
export { layout, secrets, secretFile, ROOT, type StackLayout, type Ports, type Secrets } from './layout.js';
export { readState, alive, type StackState } from './state.js';
export { reconfigureStack, startStack, stopStack } from './lifecycle.js';
export type { Profile, Route, StackOptions } from './components.js';
export { apiReplicas, writerReplicas } from './components.js';
