// A node:test reporter that writes one JSON line per skipped or todo test (file, name, reason).
// scripts/run-tests.mjs uses it next to the spec reporter to list every skip at the end of a run
// and to fail a CI run that has any: under CI a missing part must fail, never skip.
export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, name, skip, todo } = event.data;
    if (skip === undefined && todo === undefined) continue;
    const kind = skip !== undefined ? 'skip' : 'todo';
    const reason = kind === 'skip' ? skip : todo;
    yield `${JSON.stringify({ kind, file, name, reason: typeof reason === 'string' ? reason : '' })}\n`;
  }
}
