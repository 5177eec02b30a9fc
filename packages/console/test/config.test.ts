// The console's /showconfig, /saveconfig and /loadconfig on a configuration type it knows nothing
// about. memberlist's Go format through the same commands is tested in packages/chat.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { quoteWord } from '../src/index.js';
import { makeConsole, tempDir, texts } from './helpers.js';
import { type Toy, toyProvider } from './toy-config.js';

const plain: Toy = { color: 'red', size: 'small', token: '' };

function withConfig(t: { after(fn: () => unknown): void }, initial: Toy = plain) {
  const c = makeConsole(t);
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const { p, state } = toyProvider(initial, { defaultFile: join(dir, 'default.conf') });
  c.useConfig(p);
  return { c, state, dir };
}

describe('/showconfig /saveconfig /loadconfig on any configuration type', () => {
  test('/showconfig shows the file form and what waits for the create command', async (t) => {
    const { c } = withConfig(t);
    const r = await c.execute('/showconfig');
    assert.deepEqual(texts(r.lines, 'text'), ['color=red', 'size=small', 'token=']);
    assert.deepEqual(texts(r.lines, 'info'), ['take effect on the next /build only: size']);
  });

  test('/showconfig <field> says what a field does; an unknown one gets a suggestion', async (t) => {
    const { c } = withConfig(t);
    const r = await c.execute('/showconfig size color');
    assert.deepEqual(texts(r.lines), ['size: how big it is', 'color: what colour it is painted']);
    const bad = await c.execute('/showconfig colour');
    assert.equal(bad.ok, false);
    assert.match(bad.error!, /no field "colour"; did you mean color\?/);
    assert.deepEqual(c.complete('/showconfig si').candidates, ['size ']);
  });

  test('/loadconfig reports the changes, warnings, and what waits; /saveconfig round-trips', async (t) => {
    const { c, state, dir } = withConfig(t);
    const file = join(dir, 'in.conf');
    writeFileSync(file, 'size=large\nshape=round\ncolor=red\n');
    const r = await c.execute(`/loadconfig ${quoteWord(file)}`);
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(state.config, { ...plain, size: 'large' });
    assert.deepEqual(state.sets, [['size']]);
    assert.deepEqual(texts(r.lines, 'warn'), [
      'unknown field shape ignored',
      'take effect on the next /build only: size',
    ]);
    assert.match(texts(r.lines, 'info')[0], /in\.conf: changed size$/);
    const again = await c.execute(`/loadconfig ${quoteWord(file)}`);
    assert.match(texts(again.lines, 'info')[0], /no setting differs/);
    assert.equal(state.sets.length, 1);

    const saved = join(dir, 'saved.conf');
    assert.equal((await c.execute(`/saveconfig ${quoteWord(saved)}`)).ok, true);
    assert.equal(readFileSync(saved, 'utf8'), 'color=red\nsize=large\ntoken=\n');
    assert.equal(statSync(saved).mode & 0o777, 0o644);
    assert.equal((await c.execute('/saveconfig')).ok, true);
    assert.equal(
      readFileSync(join(dir, 'default.conf'), 'utf8'),
      'color=red\nsize=large\ntoken=\n',
    );
    const other = withConfig(t);
    await other.c.execute(`/loadconfig ${quoteWord(saved)}`);
    assert.deepEqual(other.state.config, state.config);
  });

  test('a broken or unreadable file is rejected and the configuration stays as it was', async (t) => {
    const { c, state, dir } = withConfig(t);
    const before = state.config;
    const file = join(dir, 'bad.conf');
    writeFileSync(file, 'size=large\nnonsense\n');
    const r = await c.execute(`/loadconfig ${quoteWord(file)}`);
    assert.equal(r.ok, false);
    assert.match(r.error!, /bad\.conf: not key=value: "nonsense"/);
    assert.equal(state.config, before);
    assert.equal(state.sets.length, 0);
    assert.match(
      (await c.execute(`/loadconfig ${quoteWord(join(dir, 'none.conf'))}`)).error!,
      /cannot read configuration .*ENOENT/,
    );
    assert.match((await c.execute(`/loadconfig ${quoteWord(dir)}`)).error!, /not a regular file/);
    writeFileSync(join(dir, 'big.conf'), `color=${'x'.repeat(5000)}\n`);
    assert.match(
      (await c.execute(`/loadconfig ${quoteWord(join(dir, 'big.conf'))}`)).error!,
      /larger than 4096 bytes/,
    );
    const saveOverDir = await c.execute(`/saveconfig ${quoteWord(dir)}`);
    assert.match(saveOverDir.error!, /cannot save configuration to/);
    assert.deepEqual(
      readdirSync(dir).sort(),
      ['bad.conf', 'big.conf'],
      'no temporary file left behind',
    );
  });

  test('a provider refusing the change fails the command; a second provider is refused', async (t) => {
    const c = makeConsole(t);
    const { p } = toyProvider(plain, {
      set: async () => {
        throw new Error('the toy is in use');
      },
    });
    c.useConfig(p);
    const { dir, cleanup } = tempDir();
    t.after(cleanup);
    const file = join(dir, 'c.conf');
    writeFileSync(file, 'color=blue');
    const r = await c.execute(`/loadconfig ${quoteWord(file)}`);
    assert.equal(r.ok, false);
    assert.match(r.error!, /the toy is in use/);
    assert.throws(() => c.useConfig(toyProvider(plain).p), { code: 'CONSOLE_CONFIG_PROVIDER' });
  });

  test('a secret is hidden by /showconfig and saved with owner-only permissions', async (t) => {
    const { c, dir } = withConfig(t, { ...plain, token: 'open-sesame' });
    const shown = texts((await c.execute('/showconfig')).lines).join('\n');
    assert.ok(!shown.includes('open-sesame'));
    assert.match(shown, /token=\(hidden/);
    const file = join(dir, 'secret.conf');
    await c.execute(`/saveconfig ${quoteWord(file)}`);
    assert.match(readFileSync(file, 'utf8'), /token=open-sesame/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test('the three commands are in the provider’s group and name its format', async (t) => {
    const { c } = withConfig(t);
    const help = texts((await c.execute('/help groups toy')).lines);
    assert.equal(help.length, 4);
    assert.match(help.join('\n'), /\/loadconfig <file>/);
    assert.match(help.join('\n'), /toy configuration \(key=value lines\)/);
  });
});
