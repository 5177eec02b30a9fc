/*
 * `@isopeer/bootstrap/server`: the bootstrap service as a Node process — `startBootstrapServer`
 * (the service on our HTTP/1.1 server) and that HTTP/1.1 layer itself, for reuse with another
 * handler. The types its signatures use are exported here too (they are the same types as the
 * main entry point's), so this entry point can be used on its own.
 */
export {
  type BootstrapServerOptions,
  type RunningBootstrapServer,
  startBootstrapServer,
} from './adapter/node.js';
export type { BootstrapLogEntry, BootstrapWarning } from './handler.js';
export {
  HttpRequestError,
  headerValue,
  type ParsedRequest,
} from './http1/request-parser.js';
export {
  createHttp1Server,
  type Http1Handler,
  type Http1Server,
  type Http1ServerOptions,
} from './http1/server.js';
export type { ServiceResponse } from './response.js';
export type { Store } from './store.js';
export type { BootstrapConfig, BootstrapData, PeerRecord } from './types.js';
