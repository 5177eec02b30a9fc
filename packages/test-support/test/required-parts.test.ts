import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCI, partMissing, RequiredPartMissingError, skipIfMissing } from '../src/index.js';

test('isCI: empty, 0 and false (any case, blanks around) mean not CI; anything else means CI', () => {
  const notCI = [undefined, '', ' ', '0', 'false', 'FALSE', 'False', ' false '];
  const ci = ['true', '1', 'TRUE', 'yes', 'on', '2', 'github-actions', '00'];
  for (const v of notCI) assert.equal(isCI(v === undefined ? {} : { CI: v }), false, `CI=${v}`);
  for (const v of ci) assert.equal(isCI({ CI: v }), true, `CI=${v}`);
});

test('partMissing: false when nothing is missing, a skip reason locally, an error under CI', () => {
  assert.equal(partMissing(null, { CI: '1' }), false);
  assert.equal(partMissing(undefined, { CI: '1' }), false);
  assert.equal(partMissing('tmux is not installed', { CI: '0' }), 'SKIPPED: tmux is not installed');
  assert.throws(
    () => partMissing('tmux is not installed', { CI: '1' }),
    (err: unknown) =>
      err instanceof RequiredPartMissingError &&
      err.code === 'REQUIRED_PART_MISSING' &&
      err.reason === 'tmux is not installed' &&
      /tmux is not installed.*CI is set/.test(err.message),
  );
});

test('skipIfMissing: marks the test skipped only off CI, and fails it under CI', () => {
  const skipped: Array<string | undefined> = [];
  const t = { skip: (m?: string) => skipped.push(m) };
  assert.equal(skipIfMissing(t, null, {}), false);
  assert.deepEqual(skipped, []);
  assert.equal(skipIfMissing(t, 'no /dev/full', { CI: 'false' }), true);
  assert.deepEqual(skipped, ['SKIPPED: no /dev/full']);
  assert.throws(() => skipIfMissing(t, 'no /dev/full', { CI: 'true' }), RequiredPartMissingError);
  assert.deepEqual(skipped, ['SKIPPED: no /dev/full'], 'no skip recorded under CI');
});
