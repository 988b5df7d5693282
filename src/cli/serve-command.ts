// `pyfence serve`: the HTTP API until SIGINT/SIGTERM, then a graceful stop.
import { EXIT_CODES } from '../python/errors.js';
import type { SandboxOptions } from '../python/options.js';
import { startHttpServer } from '../servers/http/server.js';
import { capacityFrom, tokenFrom, VERSION, type BindFlags, type CapacityFlags } from './flags.js';
import { stopSignal } from './stop-signal.js';

export interface ServeFlags extends CapacityFlags, BindFlags {
  port: number;
}

export async function serveCommand(flags: ServeFlags, grants: SandboxOptions): Promise<number> {
  const server = await startHttpServer({
    ...capacityFrom(flags),
    grants,
    host: flags.host,
    port: flags.port,
    token: tokenFrom(flags),
    maxBodyBytes: flags.maxBody,
    version: VERSION,
  });
  process.stderr.write(`pyfence serve: listening on ${server.url}\n`);
  await stopSignal();
  process.stderr.write('pyfence serve: stopping after the runs in progress\n');
  await server.close();
  return EXIT_CODES.ok;
}
