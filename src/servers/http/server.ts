// `pyfence serve` as a library call: the HTTP API on a port, with a graceful stop that lets running
// work finish before the workers are released.
import { checkBind } from '../core/bind.js';
import { listenServing } from '../core/listen.js';
import { Runner, type RunnerOptions } from '../core/runner.js';
import { SessionStore, type SessionStoreOptions } from '../core/sessions.js';
import { createHttpApi } from './app.js';

export interface HttpServerOptions extends RunnerOptions, SessionStoreOptions {
  host: string;
  port: number;
  token?: string;
  maxBodyBytes: number;
  version: string;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Refuses new requests, answers the ones in progress, then releases every worker and session. */
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningServer> {
  checkBind(options.host, options.token);
  const runner = new Runner(options);
  const sessions = new SessionStore(runner, options);
  let draining = false;
  const app = createHttpApi({ ...options, runner, sessions, draining: () => draining });
  const listening = await listenServing(app.fetch, options.host, options.port, runner, sessions);
  return {
    url: listening.url,
    port: listening.port,
    close: async () => {
      draining = true;
      await listening.close();
      await sessions.closeAll();
      await runner.close();
    },
  };
}
