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
export { HistoryFile } from './history.js';
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
export { CommandRegistry, formatUsage } from './registry.js';
export { parseScript, type ScriptLine } from './script.js';
export { type ProgramResult, type RunProgramOptions, runProgram } from './shell.js';
export { closestNames, editDistance } from './suggest.js';
export type {
  CommandContext,
  CommandResult,
  CommandSpec,
  LineKind,
  LineWriter,
  OutputLine,
  RunReturn,
} from './types.js';
export { LINE_KINDS } from './types.js';
export { colorize, type InteractiveOptions, runInteractive, sanitize } from './ui.js';
