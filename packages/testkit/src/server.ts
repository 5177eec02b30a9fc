import { type CoordinatorOptions, TestCoordinator } from './coordinator.js';
import { createTestHandler, type FetchHandler } from './handler.js';
import { type ServeOptions, serveHandler } from './node-http.js';

export interface TestServerOptions extends CoordinatorOptions, ServeOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** TCP port; default 8081 as the original, 0 picks a free one. */
  port?: number;
}

export interface RunningTestServer {
  /** Base URL, e.g. http://127.0.0.1:8081 */
  url: string;
  port: number;
  coordinator: TestCoordinator;
  handler: FetchHandler;
  /**
   * Releases waiting peers, stops the deadline timers and the listener, and waits for run files
   * being written, so the directory can be removed once it resolves. Idempotent.
   */
  close(): Promise<void>;
}

export async function createTestServer(opts: TestServerOptions): Promise<RunningTestServer> {
  const coordinator = new TestCoordinator(opts);
  const handler = createTestHandler(coordinator);
  const served = await serveHandler(handler, {
    host: opts.host,
    port: opts.port ?? 8081,
    maxBodyBytes: opts.maxBodyBytes,
    maxConnections: opts.maxConnections,
  });
  return {
    url: served.url,
    port: served.port,
    coordinator,
    handler,
    async close() {
      coordinator.close();
      await served.close();
      await coordinator.idle();
    },
  };
}
