import { type ChildProcess, spawn } from 'node:child_process';

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a child to completion, feeding `stdin`; kills it if it outlives `ms`. */
export function runToEnd(
  cmd: string,
  args: string[],
  stdin: string,
  ms = 20_000,
): Promise<Finished> {
  const child: ChildProcess = spawn(cmd, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b) => (stdout += b));
  child.stderr!.on('data', (b) => (stderr += b));
  child.stdin!.end(stdin);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${cmd} ${args.join(' ')} did not finish within ${ms} ms; output so far:\n${stdout}\n${stderr}`,
        ),
      );
    }, ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
