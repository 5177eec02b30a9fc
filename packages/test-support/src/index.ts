export { isCI, partMissing, RequiredPartMissingError, skipIfMissing } from './required-parts.js';
export { haveTmux, TmuxSession, tmuxMissing } from './tmux.js';
export { waitUntil } from './wait.js';
