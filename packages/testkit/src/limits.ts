import { TestkitError } from './errors.js';

/**
 * What one run may store of what clients send. Every `/putevent` with a new (peer, source,
 * filter) adds a filter, every matched event and every `/putlog` adds a record, and all of it is
 * kept until the run is replaced and served again by `/getevents` and `/timeline`; without
 * bounds one client could grow the server's memory without end. Real runs stay far below the
 * defaults (the examples register 6 filters and a few dozen events).
 */
export interface RunLimits {
  /** Distinct event filters per run; default 1,000. */
  maxFilters: number;
  /** Stored events and log entries per run; default 20,000. */
  maxRecords: number;
  /** Text stored per run (filters, events, logs; UTF-8 bytes); default 8 MiB. */
  maxStoredBytes: number;
}

export const DEFAULT_RUN_LIMITS: Readonly<RunLimits> = {
  maxFilters: 1_000,
  maxRecords: 20_000,
  maxStoredBytes: 8 << 20,
};

/** A request would take a run past one of its `RunLimits`; the server answers 409. */
export class RunLimitError extends TestkitError {
  readonly limit: keyof RunLimits;
  constructor(limit: keyof RunLimits, message: string) {
    super('RUN_LIMIT', message);
    this.limit = limit;
  }
}

/** Counts what a run stores against its limits; `charge` refuses before anything is stored. */
export class RunBudget {
  readonly limits: RunLimits;
  filters = 0;
  records = 0;
  bytes = 0;

  constructor(limits: Partial<RunLimits> = {}) {
    this.limits = { ...DEFAULT_RUN_LIMITS, ...definedOnly(limits) };
  }

  /** Takes `filters` new filters, `records` new records and the UTF-8 size of `texts`, or throws. */
  charge(filters: number, records: number, texts: readonly (string | undefined)[]): void {
    const l = this.limits;
    if (this.filters + filters > l.maxFilters) {
      throw new RunLimitError(
        'maxFilters',
        `run limit reached: at most ${l.maxFilters} event filters per run (maxFilters)`,
      );
    }
    if (this.records + records > l.maxRecords) {
      throw new RunLimitError(
        'maxRecords',
        `run limit reached: at most ${l.maxRecords} stored events and log entries per run (maxRecords)`,
      );
    }
    let size = 0;
    for (const t of texts) if (t) size += Buffer.byteLength(t);
    if (this.bytes + size > l.maxStoredBytes) {
      throw new RunLimitError(
        'maxStoredBytes',
        `run limit reached: at most ${l.maxStoredBytes} bytes of filters, events and logs per run (maxStoredBytes)`,
      );
    }
    this.filters += filters;
    this.records += records;
    this.bytes += size;
  }
}

function definedOnly(o: Partial<RunLimits>): Partial<RunLimits> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
