// `pyfence serve`: the HTTP API until SIGINT/SIGTERM, then a graceful stop.
import { EXIT_CODES } from '../core/errors.js';
import type { SandboxOptions } from '../api/options.js';
import { startHttpServer } from '../servers/http/server.js';
import { capacityFrom, tokenFrom, VERSION, type BindFlags, type CapacityFlags, type EngineFlags } from './flags.js';
import { stopSignal } from './stop-signal.js';

export interface ServeFlags extends CapacityFlags, BindFlags, EngineFlags {
  port: number;
}

export async function serveCommand(flags: ServeFlags, grants: SandboxOptions): Promise<number> {
  const server = await startHttpServer({
    ...capacityFrom(flags),
    grants,
    engines: flags.engines,
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
