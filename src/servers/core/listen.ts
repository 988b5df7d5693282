// Starting an HTTP server on the Node adapter, with a close that answers open requests first.
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
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
