// @isopeer/console: the command interpreter inside a running peer. Public API: the Console and
// what commands are made of, the logger, the configuration-command contract, the terminal UI,
// the command-line tokenizer (for applications that build command lines), and the errors.
export type { ConfigFormat, ConfigProvider } from './config-provider.js';
export {
  type CompletionResult,
  Console,
  type ConsoleOptions,
  type DefaultHandler,
  type ExecuteOptions,
  type RunContext,
} from './console.js';
export { ConsoleError, DuplicateCommandError, ParseError, UsageError } from './errors.js';
export {
  formatRecord,
  isLogLevel,
  LOG_LEVELS,
  Logger,
  type LoggerOptions,
  type LogLevel,
  type LogRecord,
  type RecordLevel,
  type SubLogger,
} from './logger.js';
export { parseCommandLine, quoteWord, rawArguments, type Tokens, tokenize } from './parser.js';
export { type CommandCatalog, formatUsage } from './registry.js';
export { formatTable, type TableColumn } from './table.js';
export type {
  CommandContext,
  CommandResult,
  CommandSpec,
  LineKind,
  LineOptions,
  LineWriter,
  OutputLine,
  RunReturn,
} from './types.js';
export { LINE_KINDS } from './types.js';
export { type InteractiveOptions, runInteractive, wordWrap } from './ui.js';
