// What a server runs WebAssembly with: a module from the request, the grants of the server's flags
// (its mounts at the same guest paths and modes, its env, seed and clock; never a host function or
// the network, which WASI preview1 does not have), fresh instances on a worker pool, behind the same
// gate as the server's Python runs so that both share one bound on concurrency and queueing.
import { UsageError } from '../../core/errors.js';
import type { Limits } from '../../core/limits.js';
import { WasmModule } from '../../api/wasm-module.js';
import type { WasmRunOptions } from '../../guests/wasi/options.js';
import type { WasmRunResult } from '../../guests/wasi/result.js';
import { InvalidModuleError, isBinary } from '../../instrument/load.js';
import { WasmPool } from '../../pool/wasm-pool.js';
import { requestFiles, type RequestFiles } from './files.js';
import { narrowLimits } from './limits.js';
import type { Runner } from './runner.js';

/** The largest module a request may bring (binary, or .wat text), bytes. */
export const MAX_WASM_MODULE_BYTES = 4 * 1024 * 1024;

export interface WasmRunRequest {
  /** The binary module, base64. */
  wasm_base64?: string;
  /** Or the module as .wat text. */
  wat?: string;
  args?: string[];
  /** Values for names the server granted; the server's own values otherwise. */
  env?: Record<string, string>;
  stdin?: string;
  files?: RequestFiles;
  limits?: Limits;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The module's bytes or text, within the size bound; never decodes more than the bound. */
export function moduleSource(request: WasmRunRequest): Uint8Array | string {
  const { wasm_base64: b64, wat } = request;
  if ((b64 === undefined) === (wat === undefined)) throw new UsageError('give the module as exactly one of wasm_base64 or wat');
  const tooBig = (size: number) => new UsageError(`the module is ${size} bytes; this server accepts at most ${MAX_WASM_MODULE_BYTES}`);
  if (wat !== undefined) {
    const size = Buffer.byteLength(wat);
    if (size > MAX_WASM_MODULE_BYTES) throw tooBig(size);
    return wat;
  }
  const text = b64!.replace(/\s+/g, '');
  const size = Math.floor((text.length * 3) / 4) - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0);
  if (size > MAX_WASM_MODULE_BYTES) throw tooBig(size);
  if (!BASE64.test(text) || text.length % 4 !== 0) throw new UsageError('wasm_base64 is not base64');
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  if (!isBinary(bytes)) throw new InvalidModuleError('invalid module: wasm_base64 does not start with the WebAssembly header (\\0asm); send text as wat');
  return bytes;
}

export class WasmRunner {
  private readonly pool: WasmPool;

  constructor(private readonly runner: Runner) {
    this.pool = new WasmPool({ size: runner.gate.maxRunning, maxQueue: runner.gate.maxRunning });
  }

  async run(request: WasmRunRequest): Promise<WasmRunResult> {
    const source = moduleSource(request);
    const options = this.optionsFor(request);
    return this.runner.gate.run(async () => {
      const module = await WasmModule.compile(source, { pool: this.pool });
      return module.run(options);
    });
  }

  /** Lets running work finish (the gate is the server's), then ends the workers. */
  async close(): Promise<void> {
    await this.runner.gate.idle();
    await this.pool.close();
  }

  private optionsFor(request: WasmRunRequest): WasmRunOptions {
    const grants = this.runner.grants;
    const env = { ...grants.env };
    for (const [name, value] of Object.entries(request.env ?? {})) {
      if (!Object.hasOwn(env, name)) throw new UsageError(`env: "${name}" is not granted by this server${Object.keys(env).length ? ` (granted: ${Object.keys(env).join(', ')})` : ' (it grants none)'}`);
      env[name] = value;
    }
    const limits = narrowLimits(this.runner.limits, request.limits) ?? {};
    const files = requestFiles(grants, request.files);
    return {
      args: request.args ?? ['main.wasm'],
      env,
      stdin: request.stdin ?? '',
      ...(files ? { files } : {}),
      ...(grants.mounts ? { mounts: grants.mounts } : {}),
      limits: {
        fuel: this.runner.limits.fuel,
        timeoutMs: this.runner.limits.timeoutMs,
        memoryBytes: this.runner.limits.memoryBytes,
        outputBytes: this.runner.limits.outputBytes,
        ...limits,
        ...(grants.fsQuota?.bytes !== undefined ? { writeQuotaBytes: grants.fsQuota.bytes } : {}),
      },
      ...(grants.seed !== undefined ? { seed: grants.seed } : {}),
      ...(grants.clock ? { clock: grants.clock } : {}),
    };
  }
}
