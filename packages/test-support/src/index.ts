export { type Finished, type RunOptions, runToEnd } from './child.js';
export { isCI, partMissing, RequiredPartMissingError, skipIfMissing } from './required-parts.js';
export { haveTmux, TmuxSession, tmuxMissing } from './tmux.js';
export { RawUdpPeer, type RawUdpPeerOptions } from './udp.js';
export { waitUntil } from './wait.js';
