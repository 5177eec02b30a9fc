/*
 * `@isopeer/bootstrap/server`: the bootstrap service as a Node process — `startBootstrapServer`
 * (the service on our HTTP/1.1 server) and that HTTP/1.1 layer itself, for reuse with another
 * handler.
 */
export {
  type BootstrapServerOptions,
  type RunningBootstrapServer,
  startBootstrapServer,
} from './adapter/node.js';
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
