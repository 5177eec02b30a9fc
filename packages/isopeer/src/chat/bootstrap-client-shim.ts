// TEMPORARY (not committed): stands in for @isopeer/bootstrap's BootstrapClient until it lands.
import type { BootstrapData, PeerRecord } from '@isopeer/bootstrap';

export class BootstrapClient {
  readonly url: string;
  constructor(opts: { url?: string; timeoutMs?: number }) {
    this.url = opts.url ?? process.env.BOOTSTRAP_DATA_SERVER ?? 'http://localhost:8080';
  }
  private async post(path: string, body = ''): Promise<Response> {
    try {
      const res = await fetch(new URL(path, this.url), {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        signal: AbortSignal.timeout(3000),
      });
      if (!res.ok)
        throw Object.assign(new Error(`${path}: HTTP ${res.status}`), { status: res.status });
      return res;
    } catch (e) {
      if ((e as { status?: number }).status) throw e;
      const err = new Error(`bootstrap service ${this.url} unreachable: ${(e as Error).message}`);
      err.name = 'BootstrapUnreachableError';
      throw err;
    }
  }
  private async doc(path: string, body = ''): Promise<BootstrapData> {
    return (await (await this.post(path, body)).json()) as BootstrapData;
  }
  private line(p: PeerRecord) {
    return [p.id, p.name, p.ip, p.port, p.protocol, p.status, p.timestamp].join(' ');
  }
  async ping() {
    return (await this.post('/ping')).text();
  }
  join(p: PeerRecord) {
    return this.doc('/join', this.line(p));
  }
  leave(id: string) {
    return this.doc('/leave', id);
  }
  refill(p: PeerRecord) {
    return this.doc('/refill', this.line(p));
  }
  list() {
    return this.doc('/list');
  }
  reset() {
    return this.doc('/reset');
  }
  config(a: number, b: number) {
    return this.doc('/config', `${a} ${b}`);
  }
}
