/*
 * `@isopeer/bootstrap`: what a peer or an embedding needs — the protocol's types and wire codec,
 * the typed client, the runtime-agnostic handler and the stores. The Node HTTP server lives in
 * `@isopeer/bootstrap/server`, the Cloud Functions entry points in `@isopeer/bootstrap/gcf`, so
 * importing the client loads neither. Pure semantics and codec internals stay unexported.
 */
export {
  BootstrapClient,
  BootstrapClientError,
  type BootstrapClientOptions,
  BootstrapConfigError,
  BootstrapHttpError,
  BootstrapMalformedResponseError,
  BootstrapTimeoutError,
  BootstrapUnreachableError,
  contactAddresses,
  contactsFor,
  type SelfIdentity,
} from './client.js';
export {
  BootstrapProtocolError,
  type ConfigValues,
  formatConfigLine,
  formatDocument,
  formatPeerLine,
  MAX_BODY_BYTES,
  PEER_FIELDS,
  parseConfigLine,
  parseDocument,
  parseLeaveLine,
  parsePeerLine,
} from './codec.js';
export {
  type BootstrapHandlerOptions,
  type BootstrapLogEntry,
  type BootstrapService,
  type BootstrapWarning,
  createBootstrapHandler,
  createBootstrapService,
  type ServiceRequest,
} from './handler.js';
export type { ServiceResponse } from './response.js';
export { type Store, type StoreOptions, StoreUnavailableError } from './store.js';
export {
  createFileStore,
  type FileStoreFs,
  type FileStoreHandle,
  type FileStoreOptions,
} from './stores/file.js';
export { createStoreFromSpec, STORE_SPEC_USAGE, StoreSpecError } from './stores/from-spec.js';
export { createMemoryStore } from './stores/memory.js';
export { createPostgresStore, type PostgresStoreOptions } from './stores/postgres.js';
export {
  type BootstrapConfig,
  type BootstrapData,
  DEFAULT_MAXPEERS,
  DEFAULT_MINREFILLCANDIDATES,
  type PeerRecord,
} from './types.js';
