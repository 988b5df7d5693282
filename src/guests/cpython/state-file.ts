// The initialised interpreter's state as a file (wasm/cpython-state.bin, made by the build): a JSON
// header, then the changed memory runs back to back. Loading it replaces ~1 s of initialisation.
import type { CPythonState, StateHead } from './instance.js';
import type { ByteSource } from './byte-source.js';

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

/** A state and its whole memory (`image`, shared: posting it to a worker copies nothing). */
export interface LoadedState {
  state: CPythonState;
  image: Uint8Array;
}

const LENGTH_BYTES = 4;

const sharedImage = (memoryBytes: number) => new Uint8Array(new SharedArrayBuffer(memoryBytes));

/** The header of the state in `source` and where its runs start, if it is a whole state made from `origin`. */
function readHeader(source: ByteSource, origin: string): { header: Header; bodyAt: number } | null {
  if (source.size < LENGTH_BYTES) return null;
  const length = new Uint8Array(LENGTH_BYTES);
  source.read(length, 0, 0, LENGTH_BYTES);
  const headLength = new DataView(length.buffer).getUint32(0, true);
  if (LENGTH_BYTES + headLength > source.size) return null;
  const head = new Uint8Array(headLength);
  source.read(head, 0, LENGTH_BYTES, headLength);
  const text = new TextDecoder().decode(head);
  if (!text.startsWith(MAGIC + '\n')) return null;
  const header = JSON.parse(text.slice(MAGIC.length + 1)) as Header;
  if (header.origin !== origin) return null;
  const bodyAt = LENGTH_BYTES + headLength;
  let at = bodyAt;
  for (const [offset, length] of header.runs) {
    if (offset < 0 || offset + length > header.memoryBytes) return null;
    at += length;
  }
  return at === source.size ? { header, bodyAt } : null;
}

/** The state's head (its memory's size and what is outside memory), without reading its memory. */
export function loadStateHead(source: ByteSource, origin: string): StateHead | null {
  const read = readHeader(source, origin);
  return read && { memoryBytes: read.header.memoryBytes, globals: read.header.globals, zoneName: read.header.zoneName };
}

/**
 * The state in `source`, or null if it is not one made from `origin`. Its runs are read straight
 * into the image at their offsets (the state's chunks are views of it): from a file, the only copy
 * made, so the pages it maps are the image's alone. `allocate`: the image, all zero, of the state's
 * size (shared memory by default; a new interpreter's memory for the template's first one).
 */
export function loadState(source: ByteSource, origin: string, allocate: (memoryBytes: number) => Uint8Array = sharedImage): LoadedState | null {
  const read = readHeader(source, origin);
  if (!read) return null;
  const { header } = read;
  const image = allocate(header.memoryBytes);
  const chunks: [number, Uint8Array][] = [];
  let at = read.bodyAt;
  for (const [offset, length] of header.runs) {
    source.read(image, offset, at, length);
    chunks.push([offset, image.subarray(offset, offset + length)]);
    at += length;
  }
  return { state: { memoryBytes: header.memoryBytes, chunks, globals: header.globals, zoneName: header.zoneName }, image };
}
