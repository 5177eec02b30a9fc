export * from './broadcast.js';
export * from './cluster.js';
export * from './go-peer.js';
export * from './isopeer-test.js';
export * from './line-node.js';
export * from './netns.js';
export * from './paths.js';
