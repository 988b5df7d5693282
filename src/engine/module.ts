// The sandbox module is compiled once per process; every sandbox is a new instance of it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const WASM_URL = new URL('../../wasm/pyfence.wasm', import.meta.url);

let compiled: WebAssembly.Module | undefined;

export function sandboxModulePath(): string {
  return fileURLToPath(WASM_URL);
}

export function sandboxModule(): WebAssembly.Module {
  if (!compiled) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(WASM_URL);
    } catch (e) {
      throw new Error(`pyfence: ${sandboxModulePath()} is missing; run \`npm run build\` (${(e as Error).message})`);
    }
    compiled = new WebAssembly.Module(new Uint8Array(bytes));
  }
  return compiled;
}
