// `pyfence mcp`: the MCP server over stdio (default) or streamable HTTP (--http PORT).
import { EXIT_CODES } from '../python/errors.js';
import type { SandboxOptions } from '../python/options.js';
import { startMcpHttp, startMcpStdio } from '../servers/mcp/server.js';
import { capacityFrom, tokenFrom, VERSION, type BindFlags, type CapacityFlags } from './flags.js';
import { stopSignal } from './stop-signal.js';

export interface McpFlags extends CapacityFlags, BindFlags {
  http?: number;
}

export async function mcpCommand(flags: McpFlags, grants: SandboxOptions): Promise<number> {
  const common = { ...capacityFrom(flags), grants, version: VERSION };
  if (flags.http === undefined) {
    const mcp = await startMcpStdio(common);
    await Promise.race([mcp.closed, stopSignal()]);
    await mcp.close();
    return EXIT_CODES.ok;
  }
  const mcp = await startMcpHttp({ ...common, host: flags.host, port: flags.http, token: tokenFrom(flags), maxBodyBytes: flags.maxBody });
  process.stderr.write(`pyfence mcp: listening on ${mcp.url}\n`);
  await stopSignal();
  await mcp.close();
  return EXIT_CODES.ok;
}
