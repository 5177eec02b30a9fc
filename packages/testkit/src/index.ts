// @isopeer/testkit: multi-client end-to-end tests. Public API by role — the peer side (a test
// client attached to a console, or to any command interpreter), the test server (and its fetch
// handler, to host elsewhere), the runner that starts peers (any program) and runs scripts, the
// peers' network (namespaces and kernel faults), the scripts, the reports, durations and errors.
export {
  attachTestClient,
  type LocalFilter,
  type TestClient,
  type TestClientEvents,
  type TestClientOptions,
} from './client.js';
export type {
  PortCommandSpec,
  PortContext,
  PortLine,
  PortWriter,
  TestConsole,
} from './console-port.js';
export {
  type CoordinatorOptions,
  DEFAULT_LINE_DEADLINE_MS,
  ScriptNotFoundError,
  TestCoordinator,
} from './coordinator.js';
export { formatDuration, parseDuration } from './duration.js';
export {
  BadRequestError,
  ConflictError,
  ScriptSyntaxError,
  TestkitError,
  TestServerError,
} from './errors.js';
export { type CutKind, type FaultChange, type FaultLog, NetFaults } from './faults.js';
export {
  type CountSpec,
  countSatisfied,
  type FilterSpec,
  formatFilter,
  type TextMatcher,
} from './filter.js';
export { createTestHandler, type FetchHandler } from './handler.js';
export {
  type AttachedInterpreter,
  attachInterpreter,
  type InterpreterOptions,
} from './interpreter.js';
export { DEFAULT_RUN_LIMITS, RunLimitError, type RunLimits } from './limits.js';
export {
  type AddressRange,
  type Block,
  blockOf,
  DEFAULT_RANGE,
  parseRange,
} from './netns/addresses.js';
export { type BlockNames, DEFAULT_STATE_DIR } from './netns/claims.js';
export { NetnsError } from './netns/exec.js';
export { type MeshOptions, NetnsMesh } from './netns/mesh.js';
export { netnsUnsupported } from './netns/support.js';
export {
  type NetMode,
  type NetworkInfo,
  NetworkUnavailableError,
} from './network.js';
export type { ServeOptions } from './node-http.js';
export {
  expandPeerTemplate,
  PEER_PLACEHOLDERS,
  PeerCommandError,
  type PeerPlaceholder,
  type PeerPlaceholderValues,
  type PeerTemplates,
  parsePeerTemplates,
} from './peer-command.js';
export type { PeerSpawnSpec } from './peer-process.js';
export type {
  CommandResultDocument,
  Completion,
  Dispatch,
  EventFilterDocument,
  LogEntry,
  LogKind,
  ResultsDocument,
  RunDocument,
  Status,
  SummaryEntry,
} from './protocol.js';
export { closestLines, describeFilterFailure } from './report/expectation.js';
export { toHtml } from './report/html.js';
export { toJUnit } from './report/junit.js';
export {
  buildScriptReport,
  buildTestReport,
  type CaseStatus,
  type FaultDetail,
  type ReportCase,
  type ScriptReport,
  type TestReport,
  toJsonReport,
} from './report/model.js';
export { type BandKind, type TimelineData, timelineData } from './report/timeline-data.js';
export type {
  EventRecord,
  FilterRecord,
  LineRecord,
  LogRecord,
  RunEvents,
  TestRun,
  Timeline,
} from './run.js';
export {
  type LoadedScript,
  loadScripts,
  type PeerLaunch,
  type RunnerEvents,
  type RunnerOptions,
  TestRunner,
} from './runner.js';
export {
  type NetRate,
  needsKernel,
  type PeerLine,
  parseScript,
  RUNNER_PEER,
  type RunnerAction,
  type RunnerLine,
  type Script,
  type ScriptLine,
} from './script.js';
export { createTestServer, type RunningTestServer, type TestServerOptions } from './server.js';
