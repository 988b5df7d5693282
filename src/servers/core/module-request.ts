// A run request's WebAssembly module: its bytes or text within a size bound, and the WASI options it
// runs with — the grants of the server's flags (its mounts at the same guest paths and modes, its
// env, seed and clock; never a host function or the network, which WASI preview1 does not have).
import { UsageError } from '../../core/errors.js';
import type { SandboxOptions } from '../../api/options.js';
import type { ResolvedLimits } from '../../core/limits.js';
import type { WasmRunOptions } from '../../guests/wasi/options.js';
import { InvalidModuleError, isBinary } from '../../instrument/load.js';
import { requestFiles } from './files.js';
import { narrowLimits } from './limits.js';
import type { RunRequest } from './schemas.js';

/** The largest module a request may bring (binary, or .wat text), bytes. */
export const MAX_WASM_MODULE_BYTES = 4 * 1024 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether the request brings a module (else it brings Python). */
export function isModuleRequest(request: RunRequest): boolean {
  return request.wat !== undefined || request.wasm_base64 !== undefined;
}

/** Exactly one program per request, and only the fields that program takes. */
export function checkRequestKind(request: RunRequest): void {
  const given = (['code', 'wat', 'wasm_base64'] as const).filter((k) => request[k] !== undefined);
  if (given.length !== 1) throw new UsageError(`give exactly one of code (Python), wat or wasm_base64 (a WebAssembly module)${given.length ? `; got ${given.join(' and ')}` : ''}`);
  if (given[0] === 'code') {
    const moduleOnly = (['args', 'env', 'stdin'] as const).filter((k) => request[k] !== undefined);
    if (moduleOnly.length) throw new UsageError(`${moduleOnly.join(', ')}: only for a WebAssembly module (wat or wasm_base64)`);
  } else if (request.engine !== undefined) {
    throw new UsageError('engine: only for Python code; a module runs as WebAssembly');
  }
}

/** The module's bytes or text, within the size bound; never decodes more than the bound. */
export function moduleSource(request: RunRequest): Uint8Array | string {
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

/** The WASI options of the request's module under the server's grants and limits. */
export function moduleRunOptions(grants: SandboxOptions, serverLimits: ResolvedLimits, request: RunRequest): WasmRunOptions {
  const env = { ...grants.env };
  for (const [name, value] of Object.entries(request.env ?? {})) {
    if (!Object.hasOwn(env, name)) throw new UsageError(`env: "${name}" is not granted by this server${Object.keys(env).length ? ` (granted: ${Object.keys(env).join(', ')})` : ' (it grants none)'}`);
    env[name] = value;
  }
  const limits = narrowLimits(serverLimits, request.limits) ?? {};
  const files = requestFiles(grants, request.files);
  return {
    args: request.args ?? ['main.wasm'],
    env,
    stdin: request.stdin ?? '',
    ...(files ? { files } : {}),
    ...(grants.mounts ? { mounts: grants.mounts } : {}),
    limits: {
      ...serverLimits,
      ...limits,
      ...(grants.fsQuota?.bytes !== undefined ? { writeQuotaBytes: grants.fsQuota.bytes } : {}),
    },
    ...(grants.seed !== undefined ? { seed: grants.seed } : {}),
    ...(grants.clock ? { clock: grants.clock } : {}),
  };
}
