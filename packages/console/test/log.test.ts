import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { skipIfMissing } from '@isopeer/test-support';
import { formatRecord, Logger, quoteWord } from '../src/index.js';
import { makeConsole, tempDir, texts } from './helpers.js';

function records(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(10);
  }
}

describe('/log', () => {
  test('on writes JSON lines to the file, off stops and flushes', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const c = makeConsole(t);
    const ml = c.logger.child('memberlist');
    const file = join(dir, 'peer.log');
    assert.deepEqual(texts((await c.execute('/log')).lines), [
      'logging is off (/log on <file> starts it)',
    ]);
    ml.info('before logging');
    const on = await c.execute(`/log on ${quoteWord(file)}`);
    assert.equal(on.ok, true);
    ml.info('node joined', { node: 'bob', port: 7946 });
    ml.debug('not at debug level');
    assert.match(
      texts((await c.execute('/log')).lines)[0],
      /^logging to .*peer\.log \(1 records written, 0 dropped\)$/,
    );
    const off = await c.execute('/log off');
    assert.deepEqual(texts(off.lines), [`logging to ${file} stopped`]);
    ml.info('after logging');
    const got = records(file);
    assert.equal(got.length, 1);
    assert.deepEqual(
      { ...got[0], ts: 'x' },
      {
        ts: 'x',
        level: 'info',
        subsystem: 'memberlist',
        msg: 'node joined',
        node: 'bob',
        port: 7946,
      },
    );
    assert.ok(!Number.isNaN(Date.parse(got[0].ts as string)));
    assert.deepEqual(texts((await c.execute('/log off')).lines), ['logging was already off']);
  });

  test('a file that cannot be opened is an error and the current file keeps logging', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const c = makeConsole(t);
    const file = join(dir, 'a.log');
    await c.execute(`/log on ${quoteWord(file)}`);
    const bad = await c.execute(`/log on ${quoteWord(join(dir, 'no/such/dir/x.log'))}`);
    assert.equal(bad.ok, false);
    assert.match(bad.error!, /cannot open log file .*ENOENT/);
    assert.equal(c.logger.file, file);
    c.logger.child('x').warn('still here');
    await c.execute('/log off');
    assert.equal(records(file)[0].msg, 'still here');
    assert.match((await c.execute('/log maybe')).error!, /usage: \/log/);
  });

  test('logFile option (--log FILE) logs from the start; close flushes', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const file = join(dir, 'start.log');
    const c = makeConsole(t, { logFile: file });
    await c.ready;
    assert.equal(c.logger.file, file);
    c.logger.child('chat').error('lost message', { err: new Error('boom') });
    await c.close();
    const [r] = records(file);
    assert.equal(r.level, 'error');
    assert.deepEqual(r.err, { error: 'Error', message: 'boom' });
  });

  test('a failing log file is reported and dropped, never crashing the console', async (t) => {
    if (skipIfMissing(t, existsSync('/dev/full') ? null : 'no /dev/full to simulate a full disk'))
      return;
    const c = makeConsole(t);
    await c.execute('/log on /dev/full');
    c.logger.child('x').info('this write fails with ENOSPC');
    await waitFor(
      () => c.output.some((l) => l.kind === 'error' && /logging to the file stopped/.test(l.text)),
      'the error line',
    );
    assert.equal(c.logger.file, undefined);
    assert.equal((await c.execute('/echo alive')).ok, true);
  });
});

describe('/loglevel', () => {
  test('lists levels and changes them at runtime', async (t) => {
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const c = makeConsole(t);
    const ml = c.logger.child('memberlist');
    c.logger.child('chat');
    const file = join(dir, 'l.log');
    await c.execute(`/log on ${quoteWord(file)}`);
    assert.deepEqual(texts((await c.execute('/loglevel')).lines), [
      'default: info',
      'chat: info (default)',
      'console: info (default)',
      'memberlist: info (default)',
    ]);
    ml.debug('hidden');
    assert.deepEqual(texts((await c.execute('/loglevel memberlist debug')).lines), [
      'memberlist logs at debug',
    ]);
    ml.debug('shown');
    await c.execute('/loglevel memberlist off');
    ml.error('hidden too');
    await c.execute('/loglevel * warn');
    ml.info('hidden three');
    ml.warn('shown two');
    assert.equal(c.logger.level('chat'), 'warn');
    await c.execute('/log off');
    assert.deepEqual(
      records(file).map((r) => r.msg),
      ['shown', 'shown two'],
    );
  });

  test('bad levels get the usage; unknown subsystems are accepted with a warning', async (t) => {
    const c = makeConsole(t);
    const bad = await c.execute('/loglevel memberlist loud');
    assert.equal(bad.ok, false);
    assert.match(
      bad.error!,
      /unknown level "loud"; use one of debug, info, warn, error, off; usage: \/loglevel/,
    );
    const later = await c.execute('/loglevel bootstrap debug');
    assert.equal(later.ok, true);
    assert.match(texts(later.lines, 'warn')[0], /no subsystem "bootstrap" has logged yet/);
    assert.equal(c.logger.level('bootstrap'), 'debug');
    assert.match((await c.execute('/loglevel "bad name" info')).error!, /invalid log subsystem/);
    assert.match(
      (await c.execute('/loglevel memberlist')).error!,
      /expected a subsystem and a level/,
    );
    assert.equal((await c.execute('/loglevel memberlist DEBUG')).ok, true);
    assert.equal(c.logger.level('memberlist'), 'debug');
  });
});

describe('Logger', () => {
  test('formatRecord: fixed keys first, clashing fields renamed, odd values made safe', () => {
    const circ: Record<string, unknown> = { a: 1 };
    circ.self = circ;
    const shared = { k: 1 };
    const line = formatRecord({
      ts: 0,
      level: 'info',
      subsystem: 's',
      msg: 'm',
      fields: {
        msg: 'clash',
        big: 10n,
        bytes: new Uint8Array([1, 2]),
        circ,
        twice: [shared, shared],
      },
    });
    assert.ok(line.endsWith('\n'));
    assert.deepEqual(JSON.parse(line), {
      ts: '1970-01-01T00:00:00.000Z',
      level: 'info',
      subsystem: 's',
      msg: 'm',
      _msg: 'clash',
      big: '10',
      bytes: 'AQI=',
      circ: { a: 1, self: '[circular]' },
      twice: [{ k: 1 }, { k: 1 }],
    });
  });

  test('records are events too; levels below the threshold cost nothing', () => {
    const logger = new Logger({ defaultLevel: 'warn', levels: { net: 'debug' } });
    const seen: string[] = [];
    logger.on('record', (r: { msg: string }) => seen.push(r.msg));
    const net = logger.child('net');
    const app = logger.child('app');
    net.debug('a');
    app.info('b');
    app.error('c');
    assert.deepEqual(seen, ['a', 'c']);
    assert.equal(app.enabled('info'), false);
    assert.throws(() => logger.setLevel('net', 'loud' as 'info'), {
      code: 'CONSOLE_BAD_LOG_LEVEL',
    });
  });
});
