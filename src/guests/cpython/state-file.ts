// The initialised interpreter's state as a file (wasm/cpython-state.bin, made by the build): a JSON
// header, then the changed memory runs back to back. Loading it replaces ~1 s of initialisation.
import type { CPythonState } from './instance.js';

interface Header {
  /** Identifies what the state was made from (the module's sha256 and the runner's). */
  origin: string;
  memoryBytes: number;
  globals: Record<string, number>;
  zoneName: number;
  runs: [offset: number, length: number][];
}

const MAGIC = 'pyfence-cpython-state-1';

export function serializeState(state: CPythonState, origin: string): Uint8Array {
  const runs: [number, number][] = [];
  for (const [at, bytes] of state.chunks) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === at) last[1] += bytes.length;
    else runs.push([at, bytes.length]);
  }
  const header: Header = { origin, memoryBytes: state.memoryBytes, globals: state.globals, zoneName: state.zoneName, runs };
  const head = new TextEncoder().encode(MAGIC + '\n' + JSON.stringify(header));
  const body = state.chunks.reduce((n, [, b]) => n + b.length, 0);
  const out = new Uint8Array(4 + head.length + body);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  let at = 4 + head.length;
  for (const [, bytes] of state.chunks) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** The state in `bytes`, or null if it is not one made from `origin`. */
export function parseState(bytes: Uint8Array, origin: string): CPythonState | null {
  if (bytes.length < 4) return null;
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  if (4 + headLength > bytes.length) return null;
  const text = new TextDecoder().decode(bytes.subarray(4, 4 + headLength));
  if (!text.startsWith(MAGIC + '\n')) return null;
  const header = JSON.parse(text.slice(MAGIC.length + 1)) as Header;
  if (header.origin !== origin) return null;
  let at = 4 + headLength;
  const chunks: [number, Uint8Array][] = [];
  for (const [offset, length] of header.runs) {
    if (at + length > bytes.length || offset + length > header.memoryBytes) return null;
    chunks.push([offset, bytes.subarray(at, at + length)]);
    at += length;
  }
  if (at !== bytes.length) return null;
  return { memoryBytes: header.memoryBytes, chunks, globals: header.globals, zoneName: header.zoneName };
}
