export { layout, secrets, secretFile, ROOT, type StackLayout, type Ports, type Secrets } from './layout.js';
export { readState, alive, type StackState } from './state.js';
