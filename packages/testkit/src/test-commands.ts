import type { TestClientImpl } from './client.js';
import type { PortCommandSpec, PortWriter } from './console-port.js';
import { formatFilter, parseFilterArgs, parseWaitArgs } from './filter.js';
import type { SummaryEntry } from './protocol.js';

/** Default `testwait` timeout when none is given (a script line's deadline still applies). */
export const DEFAULT_WAIT_MS = 10_000;

export const TEST_COMMAND_NAMES: ReadonlySet<string> = new Set([
  'testfilter',
  'testfilters',
  'testlocalfilters',
  'testrun',
  'testreset',
  'testsummary',
  'testsummaryprepare',
  'testwait',
]);

/** The original's `test` group, plus `testwait`. Output of these never counts for filters. */
export function testCommands(client: TestClientImpl): PortCommandSpec[] {
  const group = 'test';
  return [
    {
      name: 'testfilter',
      group,
      usage: 'testfilter <source> <count> <text>',
      description: 'expect <count> lines (N, >=N, <=N, A..B) starting with <text> or matching /re/',
      minArgs: 3,
      run: async (args, ctx) => {
        const spec = parseFilterArgs(args);
        await client.addFilter(spec);
        ctx.out.info(`filter registered: ${formatFilter(spec)}`);
      },
    },
    {
      name: 'testwait',
      group,
      usage: 'testwait <source> <count> <text> [timeout]',
      description: 'wait until lines seen since the test started match <count> (default 10s)',
      minArgs: 3,
      run: async (args, ctx) => {
        const { filter, timeoutMs } = parseWaitArgs(args);
        const n = await client.waitFor(filter, timeoutMs ?? DEFAULT_WAIT_MS, ctx.signal);
        ctx.out.info(`seen ${n}: ${formatFilter(filter)}`);
      },
    },
    {
      name: 'testfilters',
      group,
      usage: 'testfilters',
      description: 'show the event filters of the run, as the test server counts them',
      maxArgs: 0,
      run: async (_args, ctx) => {
        const events = await client.server.getEvents();
        if (events.length === 0) ctx.out.info('no filters');
        for (const e of events) {
          ctx.out.text(
            `${e.peer} ${e.source} ${e.expected ?? e.num_expected_events ?? 0} ${e.filter}: received ${e.num_received_events ?? 0}`,
          );
        }
      },
    },
    {
      name: 'testlocalfilters',
      group,
      usage: 'testlocalfilters',
      description: "show this peer's filters and what it counted",
      maxArgs: 0,
      run: (_args, ctx) => {
        if (client.localFilters.length === 0) ctx.out.info('no filters');
        for (const f of client.localFilters)
          ctx.out.text(`${formatFilter(f.spec)}: received ${f.received}`);
      },
    },
    {
      name: 'testrun',
      group,
      usage: 'testrun',
      description: 'show the current run: remaining lines, current peer, status',
      maxArgs: 0,
      run: async (_args, ctx) => {
        const run = await client.server.getRun();
        ctx.out.text(
          `run ${run.id ?? '-'} ${run.name ?? ''} ${run.status ?? 'none'} current peer ${run.currentpeer ?? '-'}`,
        );
        for (const c of run.commands ?? []) ctx.out.text(`  ${c}`);
      },
    },
    {
      name: 'testreset',
      group,
      usage: 'testreset',
      description: 'clear the run, its results, events and summary on the test server',
      maxArgs: 0,
      run: async (_args, ctx) => {
        await client.server.resetRun();
        ctx.out.info('test run reset');
      },
    },
    {
      name: 'testsummaryprepare',
      group,
      usage: 'testsummaryprepare',
      description: "evaluate this peer's commands and events and write the run files",
      maxArgs: 0,
      run: async (_args, ctx) => {
        const entries = await client.server.prepareSummary(client.peerName);
        ctx.out.info(`summary prepared for ${client.peerName}: ${entries.length} entries`);
      },
    },
    {
      name: 'testsummary',
      group,
      usage: 'testsummary',
      description: 'show the summary prepared so far (OK/FAILED per command and event)',
      maxArgs: 0,
      run: async (_args, ctx) => {
        printSummary(await client.server.getSummary(), ctx.out);
      },
    },
  ];
}

function printSummary(entries: SummaryEntry[], out: PortWriter): void {
  if (entries.length === 0) {
    out.info('no summary yet (testsummaryprepare builds it)');
    return;
  }
  for (const e of entries) {
    const line = `${(e.status ?? '').padEnd(6)} ${(e.peer ?? '').padEnd(10)} ${(e.kind ?? '').padEnd(7)} ${e.test ?? ''}  (${e.result ?? ''})`;
    if (e.status === 'OK') out.text(line);
    else out.error(line);
  }
  const failed = entries.filter((e) => e.status !== 'OK').length;
  const total = `${entries.length - failed} OK, ${failed} FAILED`;
  if (failed) out.error(total);
  else out.info(total);
}
