// `pyfence mcp`: the MCP server over stdio (default) or streamable HTTP (--http PORT).
import { EXIT_CODES } from '../core/errors.js';
import type { SandboxOptions } from '../api/options.js';
import { startMcpHttp, startMcpStdio } from '../servers/mcp/server.js';
import { DEFAULT_MCP_ENGINE } from '../servers/core/engines.js';
import { capacityFrom, tokenFrom, VERSION, type BindFlags, type CapacityFlags, type EngineFlags } from './flags.js';
import { stopSignal } from './stop-signal.js';

export interface McpFlags extends CapacityFlags, BindFlags, EngineFlags {
  http?: number;
  resultBudget?: number;
}

export async function mcpCommand(flags: McpFlags, grants: SandboxOptions): Promise<number> {
  // Models write CPython: it is the default unless --engine or --engines says otherwise.
  const engines = flags.engines ?? (grants.engine ? undefined : [DEFAULT_MCP_ENGINE]);
  const common = { ...capacityFrom(flags), grants, engines, version: VERSION, resultBudgetBytes: flags.resultBudget };
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
