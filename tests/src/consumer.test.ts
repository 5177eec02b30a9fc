// The packages as a user gets them from the registry: every package under packages/ is packed
// (`npm pack`, so `files`, the prepack LICENSE copy and package.json are what ships), the
// tarballs are installed into fresh projects in a temporary directory outside the repository
// (copies, no workspace links), and used there as documented:
//   - each tarball holds only what it should (dist/src, README.md, LICENSE, package.json; the
//     CLI its bin shim and bundle instead of dist/src), every file its package.json names, no
//     stale build output;
//   - each package declares every package its shipped code imports (hoisting in one project
//     would hide a missing one, so this is read from the code);
//   - `@isopeer/memberlist` alone installs nothing else; `@isopeer/bootstrap` alone brings no
//     Express, PostgreSQL driver or functions-framework, and its client and server work;
//   - tests/consumer/app.ts and the example of every package README type-check with `tsc`
//     (skipLibCheck off) and run: three memberlist nodes join and exchange a broadcast, a
//     bootstrap server and client round trip on loopback;
//   - `npx isopeer --version` and `npx isopeer node --help` work from the project; the command
//     installed alone brings only commander and postgres and runs its README's test script.
// Packages for the projects (typescript, @types/node, commander, postgres) come from the npm
// cache when it has them (`--prefer-offline`), else from the registry.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import ts from 'typescript';
import { repoRoot } from '../support/paths.js';

const INSTALL_TIMEOUT_MS = 240_000;
const RUN_TIMEOUT_MS = 60_000;

interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  main?: string;
  types?: string;
  exports?: unknown;
  bin?: string | Record<string, string>;
  files?: string[];
  publishConfig?: { access?: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface Packed {
  dir: string; // packages/<dir>
  pkg: PackageJson; // the package.json inside the tarball
  tarball: string;
  files: string[]; // paths inside the tarball, without the `package/` prefix
  extracted: string; // where the tarball was unpacked
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const work = mkdtempSync(join(realpathSync(tmpdir()), 'isopeer-consumer-'));
const packed = new Map<string, Packed>(); // by package name

/** The environment of a user's shell: no npm lifecycle variables and nothing from this repo. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => p !== '' && !p.startsWith(repoRoot))
    .join(delimiter);
  env.npm_config_audit = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_update_notifier = 'false';
  return env;
}

function run(cmd: string, args: string[], cwd: string, timeout = RUN_TIMEOUT_MS): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, env: userEnv(), timeout, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({
          code,
          stdout,
          stderr: err && code === null ? `${err.message}\n${stderr}` : stderr,
        });
      },
    );
  });
}

function report(what: string, r: Result): string {
  return `${what} exited ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}

async function ok(what: string, cmd: string, args: string[], cwd: string, timeout?: number) {
  const r = await run(cmd, args, cwd, timeout);
  assert.equal(r.code, 0, report(what, r));
  return r;
}

/** A fresh npm project in the work directory. */
function project(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }, null, 2)}\n`,
  );
  return dir;
}

function npmInstall(dir: string, specs: string[]) {
  return ok(
    `npm install in ${dir}`,
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs],
    dir,
    INSTALL_TIMEOUT_MS,
  );
}

/** Names of every package installed in a project, at any depth. */
function installedPackages(dir: string): string[] {
  const names = new Set<string>();
  const walk = (nm: string) => {
    if (!existsSync(nm)) return;
    for (const entry of readdirSync(nm)) {
      if (entry.startsWith('.')) continue;
      const scoped = entry.startsWith('@');
      for (const sub of scoped ? readdirSync(join(nm, entry)) : ['']) {
        const pkgDir = join(nm, entry, sub);
        const pj = join(pkgDir, 'package.json');
        if (!existsSync(pj)) continue;
        names.add((JSON.parse(readFileSync(pj, 'utf8')) as PackageJson).name);
        walk(join(pkgDir, 'node_modules'));
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return [...names].sort();
}

/** Every string a package.json points at: main, types, bin targets and `exports` targets. */
function namedPaths(pkg: PackageJson): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string') out.push(v.replace(/^\.\//, ''));
    else if (v && typeof v === 'object') Object.values(v).forEach(add);
  };
  add(pkg.main);
  add(pkg.types);
  add(pkg.bin);
  add(pkg.exports);
  return out;
}

function walkFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walkFiles(full, out);
    else out.push(full);
  }
  return out;
}

/** The npm package a bare module specifier names (`@scope/name/sub` → `@scope/name`). */
function packageOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The text of a README's "## Example" section. */
function exampleSection(readme: string): string {
  return /^## Example\s*$([\s\S]*?)(?=^## |$(?![\s\S]))/m.exec(readme)?.[1] ?? '';
}

/** The ```ts block of a README's example. */
function readmeExample(readme: string): string | undefined {
  return /```ts\n([\s\S]*?)```/.exec(exampleSection(readme))?.[1];
}

before(async () => {
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  // Every package but the private ones (test helpers, never published).
  const dirs = readdirSync(join(repoRoot, 'packages'))
    .filter((d) => existsSync(join(repoRoot, 'packages', d, 'package.json')))
    .filter(
      (d) =>
        !JSON.parse(readFileSync(join(repoRoot, 'packages', d, 'package.json'), 'utf8')).private,
    )
    .sort();
  const r = await ok(
    'npm pack',
    'npm',
    [
      'pack',
      '--json',
      '--pack-destination',
      tarballs,
      ...dirs.flatMap((d) => ['-w', `packages/${d}`]),
    ],
    repoRoot,
    INSTALL_TIMEOUT_MS,
  );
  const list = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as Array<{
    name: string;
    filename: string;
    files: Array<{ path: string }>;
  }>;
  assert.equal(list.length, dirs.length, 'one tarball per package');
  for (const [i, entry] of list.entries()) {
    const extracted = join(work, 'extracted', String(i));
    mkdirSync(extracted, { recursive: true });
    const tarball = join(tarballs, entry.filename);
    await ok('tar', 'tar', ['-xzf', tarball, '-C', extracted], work);
    const root = join(extracted, 'package');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
    const dir = dirs.find(
      (d) =>
        JSON.parse(readFileSync(join(repoRoot, 'packages', d, 'package.json'), 'utf8')).name ===
        pkg.name,
    );
    assert.ok(dir, `no packages/* directory for ${pkg.name}`);
    packed.set(pkg.name, {
      dir,
      pkg,
      tarball,
      files: entry.files.map((f) => f.path).sort(),
      extracted: root,
    });
  }
  // The prepack copy of the LICENSE is removed again after packing.
  for (const d of dirs) {
    assert.ok(
      !existsSync(join(repoRoot, 'packages', d, 'LICENSE')),
      `packages/${d}/LICENSE left behind`,
    );
  }
});

after(() => {
  if (process.env.KEEP_CONSUMER_DIR) console.log(`consumer test files kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
});

test('each tarball holds dist/src, README.md, LICENSE and package.json, and what package.json names', () => {
  const license = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');
  for (const [name, p] of packed) {
    const { pkg, files } = p;
    assert.ok(!pkg.private, `${name}: private, so npm publish would refuse it`);
    assert.match(pkg.version, /^0\.\d+\.\d+$/, `${name}: version ${pkg.version} is not 0.x`);
    assert.equal(pkg.license, 'MIT', `${name}: license`);
    if (name.startsWith('@')) {
      assert.equal(
        pkg.publishConfig?.access,
        'public',
        `${name}: scoped, needs publishConfig.access public`,
      );
    }
    for (const required of ['package.json', 'README.md', 'LICENSE']) {
      assert.ok(files.includes(required), `${name}: ${required} missing from the tarball`);
    }
    assert.equal(
      readFileSync(join(p.extracted, 'LICENSE'), 'utf8'),
      license,
      `${name}: LICENSE differs`,
    );
    if (pkg.bin !== undefined) {
      // The command ships its bin shim and the bundle it loads, which holds the libraries.
      assert.ok(files.includes('dist/bundle/cli.js'), `${name}: dist/bundle/cli.js missing`);
      for (const f of files.filter((x) => !['package.json', 'README.md', 'LICENSE'].includes(x))) {
        assert.match(f, /^(bin|dist\/bundle)\//, `${name}: ${f} should not be in the tarball`);
      }
    } else {
      const src = join(repoRoot, 'packages', p.dir, 'src');
      for (const f of files.filter((x) => !['package.json', 'README.md', 'LICENSE'].includes(x))) {
        const m = /^dist\/src\/(.+?)\.(js|d\.ts|js\.map|d\.ts\.map)$/.exec(f);
        assert.ok(m, `${name}: ${f} should not be in the tarball (only dist/src, README, LICENSE)`);
        assert.ok(
          existsSync(join(src, `${m[1]}.ts`)),
          `${name}: ${f} is stale: src/${m[1]}.ts is gone`,
        );
      }
      for (const f of walkFiles(src).filter((x) => x.endsWith('.ts'))) {
        const base = relative(src, f).replace(/\.ts$/, '');
        for (const ext of ['js', 'd.ts']) {
          assert.ok(
            files.includes(`dist/src/${base}.${ext}`),
            `${name}: dist/src/${base}.${ext} missing`,
          );
        }
      }
    }
    for (const path of namedPaths(pkg)) {
      assert.ok(files.includes(path), `${name}: package.json names ${path}, not in the tarball`);
    }
    if (pkg.exports && typeof pkg.exports === 'object') {
      for (const [sub, target] of Object.entries(pkg.exports as Record<string, object>)) {
        assert.equal(
          Object.keys(target)[0],
          'types',
          `${name} exports ${sub}: "types" must come first`,
        );
      }
    }
    for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
      const sibling = packed.get(dep);
      if (sibling)
        assert.equal(
          range,
          sibling.pkg.version,
          `${name}: ${dep}@${range}, packed ${sibling.pkg.version}`,
        );
    }
  }
});

test('each package declares every package its shipped code imports, and nothing unused', () => {
  for (const [name, p] of packed) {
    const declared = new Set([
      ...Object.keys(p.pkg.dependencies ?? {}),
      ...Object.keys(p.pkg.peerDependencies ?? {}),
    ]);
    const imported = new Set<string>();
    for (const file of walkFiles(p.extracted).filter((f) => /\.(js|d\.ts)$/.test(f))) {
      const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      for (const { fileName: spec } of info.importedFiles) {
        if (spec.startsWith('.') || isBuiltin(spec)) continue;
        const dep = packageOf(spec);
        imported.add(dep);
        assert.ok(
          declared.has(dep),
          `${name}: ${relative(p.extracted, file)} imports ${spec}, not in its dependencies`,
        );
      }
    }
    // A dependency that only provides an optional peer of another dependency (the CLI's
    // postgres, for the bootstrap store) is used too.
    const peersOfDeps = new Set(
      Object.keys(p.pkg.dependencies ?? {}).flatMap((d) =>
        Object.keys(packed.get(d)?.pkg.peerDependencies ?? {}),
      ),
    );
    for (const dep of Object.keys(p.pkg.dependencies ?? {})) {
      assert.ok(
        imported.has(dep) || peersOfDeps.has(dep),
        `${name}: depends on ${dep} but never imports it`,
      );
    }
  }
});

test('@isopeer/memberlist installs nothing but itself', async () => {
  const dir = project('memberlist-only');
  await npmInstall(dir, [packed.get('@isopeer/memberlist')!.tarball]);
  assert.deepEqual(installedPackages(dir), ['@isopeer/memberlist']);
  const r = await ok(
    'import @isopeer/memberlist',
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const m = await import('@isopeer/memberlist'); console.log(typeof m.createMemberlist);",
    ],
    dir,
  );
  assert.equal(r.stdout.trim(), 'function');
});

let app: string; // the project with every package, typescript and @types/node

test('every package installs into a fresh project as copies, with no link into the repository', async () => {
  app = project('app');
  const typesNode = JSON.parse(
    readFileSync(join(repoRoot, 'node_modules/@types/node/package.json'), 'utf8'),
  );
  const typescript = JSON.parse(
    readFileSync(join(repoRoot, 'node_modules/typescript/package.json'), 'utf8'),
  );
  await npmInstall(app, [
    ...[...packed.values()].map((p) => p.tarball),
    `typescript@${typescript.version}`,
    `@types/node@${typesNode.version}`,
  ]);
  for (const name of packed.keys()) {
    const at = join(app, 'node_modules', name);
    assert.ok(!lstatSync(at).isSymbolicLink(), `${name} is a link, not a copy`);
    assert.ok(realpathSync(at).startsWith(app), `${name} resolves outside the project`);
  }
});

test('a program and the README examples type-check with tsc and run', async () => {
  assert.ok(app, 'the app project was not installed');
  const sources = ['app.ts'];
  writeFileSync(join(app, 'app.ts'), readFileSync(join(repoRoot, 'tests/consumer/app.ts')));
  for (const p of packed.values()) {
    if (p.pkg.bin !== undefined) continue; // the CLI's README example is shell commands (below)
    const example = readmeExample(readFileSync(join(p.extracted, 'README.md'), 'utf8'));
    assert.ok(example, `${p.pkg.name}: README.md has no \`\`\`ts block under "## Example"`);
    const file = `readme-${p.dir}.ts`;
    writeFileSync(join(app, file), example);
    sources.push(file);
  }
  // The repository README's library snippet is type-checked too (it joins a cluster that is
  // not there, so it is not run).
  const rootSnippet = /^## Install$[\s\S]*?```ts\n([\s\S]*?)```/m.exec(
    readFileSync(join(repoRoot, 'README.md'), 'utf8'),
  )?.[1];
  assert.ok(rootSnippet, 'README.md: no ```ts block in "## Install"');
  writeFileSync(join(app, 'readme-root.ts'), rootSnippet);
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        types: ['node'],
        outDir: 'out',
      },
      files: [...sources, 'readme-root.ts'],
    }),
  );
  await ok('tsc', process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', '.'], app);

  const r = await ok('the consumer program', process.execPath, ['out/app.js'], app);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
  assert.deepEqual(result.memberlist, { members: ['a', 'b', 'c'], delivered: 2 });
  assert.deepEqual(result.bootstrap, { listed: ['p2'], contacts: ['127.0.0.1:7002'] });

  for (const file of sources.slice(1)) {
    const out = await ok(
      `README example ${file}`,
      process.execPath,
      [`out/${file.replace(/\.ts$/, '.js')}`],
      app,
    );
    assert.notEqual(out.stdout.trim(), '', `${file} printed nothing`);
  }
});

test('@isopeer/bootstrap alone brings no Express, PostgreSQL or functions-framework; client and server work', async () => {
  assert.ok(app, 'the app project was not installed');
  const dir = project('bootstrap-only');
  await npmInstall(dir, [packed.get('@isopeer/bootstrap')!.tarball]);
  assert.deepEqual(installedPackages(dir), ['@isopeer/bootstrap']);
  // Type-checked with the app project's compiler and Node types: the client's declarations
  // must not need the postgres driver's.
  writeFileSync(
    join(dir, 'client.ts'),
    [
      "import { BootstrapClient, createMemoryStore } from '@isopeer/bootstrap';",
      "import { startBootstrapServer } from '@isopeer/bootstrap/server';",
      "const server = await startBootstrapServer({ host: '127.0.0.1', port: 0, store: createMemoryStore() });",
      'const client = new BootstrapClient({ url: server.url });',
      "const peer = { id: 'x', name: 'x', ip: '127.0.0.1', port: '7946', protocol: 'tcp', status: '0', timestamp: '1' };",
      'await client.join(peer);',
      'console.log(Object.keys((await client.list()).Peers).join(","));',
      'await server.close();',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        typeRoots: [join(app, 'node_modules/@types')],
        types: ['node'],
      },
      files: ['client.ts'],
    }),
  );
  await ok(
    'tsc (bootstrap only)',
    process.execPath,
    [join(app, 'node_modules/typescript/bin/tsc'), '-p', '.'],
    dir,
  );
  const r = await ok('the bootstrap client', process.execPath, ['client.js'], dir);
  assert.equal(r.stdout.trim(), 'x');
});

/** The installed CLI, as a user in `dir` runs it; `--no`: never fetch it from the registry. */
const npxIsopeer = (dir: string, args: string[]) =>
  ok(`npx isopeer ${args.join(' ')} in ${dir}`, 'npx', ['--no', '--', 'isopeer', ...args], dir);

test('npx isopeer --version and npx isopeer node --help work in the project', async () => {
  assert.ok(app, 'the app project was not installed');
  const cli = [...packed.values()].find((p) => p.pkg.bin !== undefined);
  assert.ok(cli, 'no package has a bin');
  const version = await npxIsopeer(app, ['--version']);
  assert.equal(version.stdout.trim(), cli.pkg.version);
  const help = await npxIsopeer(app, ['node', '--help']);
  assert.match(help.stdout, /Usage: isopeer node/);
});

test("the command alone brings only commander and postgres, and runs the README's test script", async () => {
  const cli = [...packed.values()].find((p) => p.pkg.bin !== undefined);
  assert.ok(cli, 'no package has a bin');
  const dir = project('cli-only');
  await npmInstall(dir, [cli.tarball]);
  assert.deepEqual(installedPackages(dir), ['commander', cli.pkg.name, 'postgres'].sort());
  const readme = exampleSection(readFileSync(join(cli.extracted, 'README.md'), 'utf8'));
  const script = /cat > hello\.cmd <<'END'\n([\s\S]*?\n)END\n/.exec(readme)?.[1];
  assert.ok(script, "the CLI README's example has no `cat > hello.cmd <<'END'` script");
  writeFileSync(join(dir, 'hello.cmd'), script);
  const r = await npxIsopeer(dir, ['test', 'hello.cmd', '--report', 'report.html']);
  assert.match(r.stdout, /^PASSED: 1 script, \d+ passed, 0 failed/m);
  assert.ok(statSync(join(dir, 'report.html')).size > 0, 'no HTML report');
});
