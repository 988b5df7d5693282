// Starting an HTTP server on the Node adapter, with a close that answers open requests first.
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../../core/errors.js';
import type { Runner } from './runner.js';
import type { SessionStore } from './sessions.js';

export interface Listening {
  server: Server;
  url: string;
  port: number;
  /** Stops accepting connections and resolves when the open requests are answered. */
  close(): Promise<void>;
}

export function listen(fetch: (request: Request) => Response | Promise<Response>, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: host, port }) as Server;
    // A port in use or not ours to bind is the operator's to fix, like any other bad flag.
    const refused = (e: NodeJS.ErrnoException) => reject(e.code ? new UsageError(`cannot listen on ${host}:${port}: ${e.code}`) : e);
    server.once('error', refused);
    server.once('listening', () => {
      server.off('error', refused);
      const actual = (server.address() as AddressInfo).port;
      const close = () =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeIdleConnections();
        });
      resolve({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`, port: actual, close });
    });
  });
}

/**
 * Listens once the runner's workers are ready; if either fails, the sessions and workers already
 * started are released before the error goes on, so the process can end.
 */
export async function listenServing(
  fetch: (request: Request) => Response | Promise<Response>,
  host: string,
  port: number,
  runner: Runner,
  sessions: SessionStore,
): Promise<Listening> {
  try {
    await runner.ready();
    return await listen(fetch, host, port);
  } catch (e) {
    await sessions.closeAll();
    await runner.close();
    throw e;
  }
}
