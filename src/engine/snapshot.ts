// Snapshots of an instance's whole state: its linear memory (stored as a compressed XOR against the
// module's baked start image, so untouched bytes cost almost nothing), its mutable globals, and
// opaque sections the layers above add (files, ...). A snapshot names the exact module it came from
// and carries a checksum; anything foreign, truncated or altered is refused before it is used.
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { WASM_PAGE_BYTES } from './abi.js';

const MAGIC = new TextEncoder().encode('PYFENCE SNAPSHOT');
export const SNAPSHOT_FORMAT_VERSION = 1;
const HASH_BYTES = 32;
const HEADER_BYTES = MAGIC.length + 4 + HASH_BYTES + 4;

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

export interface InstanceState {
  memory: Uint8Array;
  globals: Record<string, number>;
}

export interface SnapshotContents {
  state: InstanceState;
  /** Named sections of the layers above, JSON-compatible. */
  sections: Record<string, unknown>;
}

interface Meta {
  memoryBytes: number;
  globals: Record<string, number>;
  sections: Record<string, unknown>;
}

function xorInto(target: Uint8Array, base: Uint8Array): void {
  const n = Math.min(target.length, base.length);
  const words = n >>> 2;
  const t32 = new Uint32Array(target.buffer, target.byteOffset, words);
  const b32 = new Uint32Array(base.buffer, base.byteOffset, words);
  for (let i = 0; i < words; i++) t32[i] ^= b32[i];
  for (let i = words << 2; i < n; i++) target[i] ^= base[i];
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

export function encodeSnapshot(moduleSha256: string, base: Uint8Array, contents: SnapshotContents): Uint8Array {
  const { memory, globals } = contents.state;
  // Padded with spaces (still JSON) so the memory that follows is 4-byte aligned.
  let metaText = JSON.stringify({ memoryBytes: memory.length, globals, sections: contents.sections } satisfies Meta);
  while (new TextEncoder().encode(metaText).length % 4) metaText += ' ';
  const meta = new TextEncoder().encode(metaText);
  const plain = new Uint8Array(4 + meta.length + memory.length);
  new DataView(plain.buffer).setUint32(0, meta.length, true);
  plain.set(meta, 4);
  const diff = plain.subarray(4 + meta.length);
  diff.set(memory);
  xorInto(diff, base);
  const body = deflateRawSync(plain, { level: 6 });

  const out = new Uint8Array(HEADER_BYTES + body.length + HASH_BYTES);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(MAGIC.length, SNAPSHOT_FORMAT_VERSION, true);
  out.set(Buffer.from(moduleSha256, 'hex'), MAGIC.length + 4);
  view.setUint32(MAGIC.length + 4 + HASH_BYTES, body.length, true);
  out.set(body, HEADER_BYTES);
  out.set(sha256(out.subarray(0, HEADER_BYTES + body.length)), HEADER_BYTES + body.length);
  return out;
}

/** Checks everything before inflating; `maxMemoryBytes` bounds what the snapshot may expand to. */
export function decodeSnapshot(bytes: Uint8Array, moduleSha256: string, base: Uint8Array, maxMemoryBytes: number): SnapshotContents {
  if (!(bytes instanceof Uint8Array)) throw new SnapshotError('a snapshot must be a Uint8Array');
  if (bytes.length < HEADER_BYTES + HASH_BYTES || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new SnapshotError('not a pyfence snapshot');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = view.getUint32(MAGIC.length, true);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotError(`snapshot format version ${version} is not supported (this pyfence reads version ${SNAPSHOT_FORMAT_VERSION})`);
  }
  const bodyLength = view.getUint32(MAGIC.length + 4 + HASH_BYTES, true);
  if (bytes.length !== HEADER_BYTES + bodyLength + HASH_BYTES) throw new SnapshotError('snapshot is truncated or has trailing bytes');
  const expected = sha256(bytes.subarray(0, HEADER_BYTES + bodyLength));
  if (!expected.equals(bytes.subarray(HEADER_BYTES + bodyLength))) throw new SnapshotError('snapshot checksum mismatch: it was altered or damaged');
  const moduleHash = Buffer.from(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + HASH_BYTES)).toString('hex');
  if (moduleHash !== moduleSha256) {
    throw new SnapshotError(`snapshot was made by another sandbox module (${moduleHash.slice(0, 12)}, this one is ${moduleSha256.slice(0, 12)})`);
  }
  let plain: Buffer;
  try {
    plain = inflateRawSync(bytes.subarray(HEADER_BYTES, HEADER_BYTES + bodyLength), { maxOutputLength: maxMemoryBytes + (1 << 20) });
  } catch (e) {
    throw new SnapshotError(`snapshot body cannot be read (${(e as Error).message}); is it larger than the memory limit of ${maxMemoryBytes} bytes?`);
  }
  const metaLength = plain.readUInt32LE(0);
  let meta: Meta;
  try {
    meta = JSON.parse(plain.subarray(4, 4 + metaLength).toString('utf8'));
  } catch {
    throw new SnapshotError('snapshot metadata is malformed');
  }
  const memory = new Uint8Array(plain.subarray(4 + metaLength)); // a copy of its own: aligned for the XOR
  if (memory.length !== meta.memoryBytes || memory.length % WASM_PAGE_BYTES !== 0) throw new SnapshotError('snapshot memory size is inconsistent');
  if (memory.length > maxMemoryBytes) {
    throw new SnapshotError(`snapshot needs ${memory.length} bytes of memory, over the limit of ${maxMemoryBytes}`);
  }
  xorInto(memory, base);
  return { state: { memory, globals: meta.globals }, sections: meta.sections ?? {} };
}
