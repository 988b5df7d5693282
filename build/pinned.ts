// The one input the sandbox module is built from. Any other bytes are refused.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const PINNED_PACKAGE = '@micropython/micropython-webassembly-pyscript';
export const PINNED_VERSION = '1.27.0';
export const PINNED_SHA256 = '06338c955b03c5700aa0069015d3e392d76836ef8e2ce25bedbe59b88ccd373c';

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads the pinned MicroPython wasm and checks its version and hash. */
export function readPinnedWasm(): Uint8Array {
  const require = createRequire(import.meta.url);
  const pkg = require(`${PINNED_PACKAGE}/package.json`) as { version: string };
  if (pkg.version !== PINNED_VERSION) {
    throw new Error(`${PINNED_PACKAGE} is ${pkg.version}, expected exactly ${PINNED_VERSION}`);
  }
  const wasmPath = require.resolve(`${PINNED_PACKAGE}/micropython.wasm`);
  const bytes = readFileSync(wasmPath);
  const digest = sha256(bytes);
  if (digest !== PINNED_SHA256) {
    throw new Error(`${wasmPath} has sha256 ${digest}, expected ${PINNED_SHA256}`);
  }
  return new Uint8Array(bytes);
}
