/**
 * Runs the Go program under test/go/chatjson (Go's own encoding/json with the prototype's struct
 * tags) so tests compare our bytes with Go's. Needs the Debian Go toolchain and protobuf sources;
 * returns undefined when they are missing (callers skip loudly, or fail when CI=true).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const source = fileURLToPath(new URL('../../test/go/chatjson/main.go', import.meta.url));

export interface GoOracle {
  run(cases: unknown[]): Promise<Array<{ out?: string; err?: string }>>;
  close(): void;
}

export async function buildGoOracle(): Promise<GoOracle | { missing: string }> {
  if (!existsSync('/usr/share/gocode/src/google.golang.org/protobuf')) {
    return { missing: 'Go protobuf sources (/usr/share/gocode) are not installed' };
  }
  const dir = mkdtempSync(join(tmpdir(), 'chatjson-'));
  mkdirSync(join(dir, 'src', 'chatjson'), { recursive: true });
  cpSync(source, join(dir, 'src', 'chatjson', 'main.go'));
  const env = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: `${dir}:/usr/share/gocode`,
    GOCACHE: join(tmpdir(), 'isopeer-chat-gocache'),
    GOFLAGS: '',
    GOPROXY: 'off',
  };
  const bin = join(dir, 'chatjson');
  try {
    await run('go', ['build', '-o', bin, 'chatjson'], { cwd: dir, env, timeout: 120_000 });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { missing: `go build failed: ${(e as Error).message}` };
  }
  return {
    async run(cases) {
      const child = execFile(bin, [], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
      const out = new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout!.on('data', (d) => {
          text += d;
        });
        child.on('error', reject);
        child.on('close', (code) =>
          code === 0 ? resolve(text) : reject(new Error(`chatjson exited ${code}`)),
        );
      });
      child.stdin!.end(JSON.stringify(cases));
      return JSON.parse(await out);
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
