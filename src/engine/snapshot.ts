// Snapshots of an instance's whole state: its linear memory (stored as a compressed XOR against the
// module's baked start image, so untouched bytes cost almost nothing), its mutable globals, and
// opaque sections the layers above add (files, ...). A snapshot names the exact module it came from
// and ends with a tag over everything before it, checked before anything is inflated:
// - unkeyed, the tag is a plain sha256: it catches accidents (truncation, bit rot, another module),
//   not an attacker, who can recompute it;
// - keyed (`key`), it is an HMAC-SHA256: only a holder of the key can make a snapshot that restores.
// A restorer with a key refuses unkeyed snapshots and one without refuses keyed ones, so a key can
// never be stripped off silently.
// The flags word also names the engine whose snapshot it is (second byte: 0 MicroPython, so the
// MicroPython snapshots of before keep their bytes), so a snapshot of one engine is refused clearly
// by the other. The body's layout is the engine's own.
import { nodeCrypto, nodeZlib } from '../core/lazy-builtins.js';
import { WASM_PAGE_BYTES } from './abi.js';

const MAGIC = new TextEncoder().encode('PYFENCE SNAPSHOT');
export const SNAPSHOT_FORMAT_VERSION = 2;
const HASH_BYTES = 32;
const FLAGS_OFFSET = MAGIC.length + 4 + HASH_BYTES;
const LENGTH_OFFSET = FLAGS_OFFSET + 4;
const HEADER_BYTES = LENGTH_OFFSET + 4;
const FLAG_KEYED = 1;
const ENGINE_SHIFT = 8;
const ENGINE_MASK = 0xff << ENGINE_SHIFT;
/** Shorter keys are refused: an HMAC is only as strong as its key. */
const MIN_SNAPSHOT_KEY_BYTES = 16;

/** The secret that signs and verifies snapshots (see the header). */
export type SnapshotKey = string | Uint8Array;

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** The interpreters whose sessions snapshot, by their code in the header. */
const SNAPSHOT_ENGINES = ['micropython', 'cpython'] as const;
export type SnapshotEngine = (typeof SNAPSHOT_ENGINES)[number];

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

export function xorInto(target: Uint8Array, base: Uint8Array): void {
  const n = Math.min(target.length, base.length);
  const words = n >>> 2;
  const t32 = new Uint32Array(target.buffer, target.byteOffset, words);
  const b32 = new Uint32Array(base.buffer, base.byteOffset, words);
  for (let i = 0; i < words; i++) t32[i] ^= b32[i];
  for (let i = words << 2; i < n; i++) target[i] ^= base[i];
}

function tag(bytes: Uint8Array, key: SnapshotKey | undefined): Buffer {
  const { createHash, createHmac } = nodeCrypto();
  return key === undefined ? createHash('sha256').update(bytes).digest() : createHmac('sha256', key).update(bytes).digest();
}

export const SNAPSHOT_KEY_RULE = `snapshotKey must be a string or Uint8Array of at least ${MIN_SNAPSHOT_KEY_BYTES} bytes`;

/** False for a key too short to protect anything, or not a key at all. */
export function isSnapshotKey(key: unknown): key is SnapshotKey {
  const bytes = typeof key === 'string' ? Buffer.byteLength(key) : key instanceof Uint8Array ? key.length : -1;
  return bytes >= MIN_SNAPSHOT_KEY_BYTES;
}

function checkSnapshotKey(key: SnapshotKey): void {
  if (!isSnapshotKey(key)) throw new SnapshotError(SNAPSHOT_KEY_RULE);
}

function seal(out: Uint8Array, bodyEnd: number, key: SnapshotKey | undefined): void {
  const view = new DataView(out.buffer, out.byteOffset);
  const engineBits = view.getUint32(FLAGS_OFFSET, true) & ENGINE_MASK;
  view.setUint32(FLAGS_OFFSET, engineBits | (key === undefined ? 0 : FLAG_KEYED), true);
  out.set(tag(out.subarray(0, bodyEnd), key), bodyEnd);
}

/**
 * Checks the framing and the tag of `bytes`; returns the body's length. Nothing else is read from
 * the snapshot before its tag has been verified.
 */
function verifyFrame(bytes: Uint8Array, key: SnapshotKey | undefined): number {
  if (!(bytes instanceof Uint8Array)) throw new SnapshotError('a snapshot must be a Uint8Array');
  if (bytes.length < HEADER_BYTES + HASH_BYTES || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new SnapshotError('not a pyfence snapshot');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const version = view.getUint32(MAGIC.length, true);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotError(`snapshot format version ${version} is not supported (this pyfence reads version ${SNAPSHOT_FORMAT_VERSION})`);
  }
  const bodyLength = view.getUint32(LENGTH_OFFSET, true);
  if (bytes.length !== HEADER_BYTES + bodyLength + HASH_BYTES) throw new SnapshotError('snapshot is truncated or has trailing bytes');
  const flags = view.getUint32(FLAGS_OFFSET, true);
  if (flags & ~(FLAG_KEYED | ENGINE_MASK) || SNAPSHOT_ENGINES[(flags & ENGINE_MASK) >>> ENGINE_SHIFT] === undefined) {
    throw new SnapshotError('snapshot header has unknown flags');
  }
  const keyed = (flags & FLAG_KEYED) !== 0;
  if (keyed && key === undefined) throw new SnapshotError('snapshot is signed with a key: restore it with its snapshotKey');
  if (!keyed && key !== undefined) throw new SnapshotError('snapshot is not signed, but a snapshotKey was given: refusing it');
  if (key !== undefined) checkSnapshotKey(key);
  const bodyEnd = HEADER_BYTES + bodyLength;
  const expected = tag(bytes.subarray(0, bodyEnd), key);
  if (!nodeCrypto().timingSafeEqual(expected, bytes.subarray(bodyEnd))) {
    throw new SnapshotError(keyed ? 'snapshot signature mismatch: it was not made with this key, or it was altered' : 'snapshot checksum mismatch: it was altered or damaged');
  }
  return bodyLength;
}

/**
 * Re-seals an unkeyed snapshot (made where the key is not, e.g. in a worker) with `key`, after
 * checking its checksum.
 */
export function signSnapshot(bytes: Uint8Array, key: SnapshotKey): Uint8Array {
  checkSnapshotKey(key);
  const bodyEnd = HEADER_BYTES + verifyFrame(bytes, undefined);
  const out = new Uint8Array(bytes);
  seal(out, bodyEnd, key);
  return out;
}

/** Frames an engine's `body` (already compressed) as a snapshot of `moduleSha256`, tagged with `key`. */
export function sealSnapshot(engine: SnapshotEngine, moduleSha256: string, body: Uint8Array, key?: SnapshotKey): Uint8Array {
  if (key !== undefined) checkSnapshotKey(key);
  const out = new Uint8Array(HEADER_BYTES + body.length + HASH_BYTES);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(MAGIC.length, SNAPSHOT_FORMAT_VERSION, true);
  out.set(Buffer.from(moduleSha256, 'hex'), MAGIC.length + 4);
  view.setUint32(FLAGS_OFFSET, SNAPSHOT_ENGINES.indexOf(engine) << ENGINE_SHIFT, true);
  view.setUint32(LENGTH_OFFSET, body.length, true);
  out.set(body, HEADER_BYTES);
  seal(out, HEADER_BYTES + body.length, key);
  return out;
}

/**
 * The body of a snapshot of `engine` and `moduleSha256`, once its framing, tag, engine and module
 * have been checked (in that order: nothing is trusted before the tag).
 */
export function openSnapshot(bytes: Uint8Array, engine: SnapshotEngine, moduleSha256: string, key?: SnapshotKey): Uint8Array {
  const bodyLength = verifyFrame(bytes, key);
  const flags = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(FLAGS_OFFSET, true);
  const made = SNAPSHOT_ENGINES[(flags & ENGINE_MASK) >>> ENGINE_SHIFT];
  if (made !== engine) {
    throw new SnapshotError(
      `snapshot was made with engine '${made}': restore it with { engine: '${made}' } (this sandbox's engine is '${engine}')`,
    );
  }
  const moduleHash = Buffer.from(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + HASH_BYTES)).toString('hex');
  if (moduleHash !== moduleSha256) {
    throw new SnapshotError(
      `snapshot was made by another sandbox module (${engine} build ${moduleHash.slice(0, 12)}, this one is ${moduleSha256.slice(0, 12)}): ` +
        'snapshots restore only into the same build',
    );
  }
  return bytes.subarray(HEADER_BYTES, HEADER_BYTES + bodyLength);
}

export function encodeSnapshot(moduleSha256: string, base: Uint8Array, contents: SnapshotContents, key?: SnapshotKey): Uint8Array {
  const { memory, globals } = contents.state;
  const meta: Meta = { memoryBytes: memory.length, globals, sections: contents.sections };
  const body = packBody(meta, memory.length, (diff) => {
    diff.set(memory);
    xorInto(diff, base);
  }, 6);
  return sealSnapshot('micropython', moduleSha256, body, key);
}

/**
 * The body both engines seal, deflated at `level`: the metadata's length (u32 LE), the metadata as
 * JSON padded with spaces (still JSON) so that the `dataLength` bytes after it, which `fill` writes,
 * are 4-byte aligned for XOR-ing with a base.
 */
export function packBody(meta: object, dataLength: number, fill: (data: Uint8Array) => void, level: number): Uint8Array {
  let metaText = JSON.stringify(meta);
  while (Buffer.byteLength(metaText) % 4) metaText += ' ';
  const metaBytes = Buffer.from(metaText);
  const plain = new Uint8Array(4 + metaBytes.length + dataLength);
  new DataView(plain.buffer).setUint32(0, metaBytes.length, true);
  plain.set(metaBytes, 4);
  fill(plain.subarray(4 + metaBytes.length));
  return nodeZlib().deflateRawSync(plain, { level });
}

/**
 * `packBody` undone, inflating at most `maxPlainBytes` (a bomb is refused, not expanded): the parsed
 * metadata (unchecked: a forged snapshot may hold anything) and a copy of the data of its own,
 * aligned for the XOR. `memoryLimit` only words the refusal.
 */
export function unpackBody(body: Uint8Array, maxPlainBytes: number, memoryLimit: number): { meta: unknown; data: Uint8Array } {
  let plain: Buffer;
  try {
    plain = nodeZlib().inflateRawSync(body, { maxOutputLength: maxPlainBytes });
  } catch (e) {
    throw new SnapshotError(`snapshot body cannot be read (${(e as Error).message}); is it larger than the memory limit of ${memoryLimit} bytes?`);
  }
  const metaLength = plain.length >= 4 ? plain.readUInt32LE(0) : -1;
  if (metaLength < 0 || 4 + metaLength > plain.length) throw new SnapshotError('snapshot metadata is malformed');
  let meta: unknown;
  try {
    meta = JSON.parse(plain.subarray(4, 4 + metaLength).toString('utf8'));
  } catch {
    throw new SnapshotError('snapshot metadata is malformed');
  }
  return { meta, data: new Uint8Array(plain.subarray(4 + metaLength)) };
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks everything before inflating; `maxMemoryBytes` bounds what the snapshot may expand to. `key`
 * must be the one the snapshot was signed with (none for an unkeyed one).
 */
export function decodeSnapshot(
  bytes: Uint8Array,
  moduleSha256: string,
  base: Uint8Array,
  maxMemoryBytes: number,
  key?: SnapshotKey,
): SnapshotContents {
  const body = openSnapshot(bytes, 'micropython', moduleSha256, key);
  const unpacked = unpackBody(body, maxMemoryBytes + (1 << 20), maxMemoryBytes);
  const meta = checkMeta(unpacked.meta);
  const memory = unpacked.data;
  if (memory.length !== meta.memoryBytes || memory.length % WASM_PAGE_BYTES !== 0) throw new SnapshotError('snapshot memory size is inconsistent');
  if (memory.length > maxMemoryBytes) {
    throw new SnapshotError(`snapshot needs ${memory.length} bytes of memory, over the limit of ${maxMemoryBytes}`);
  }
  xorInto(memory, base);
  return { state: { memory, globals: meta.globals }, sections: meta.sections ?? {} };
}

/** The metadata's shape, checked: a forged (re-checksummed) snapshot may hold anything here. */
function checkMeta(meta: unknown): Meta {
  const m = meta as Partial<Meta> | null;
  if (!isRecord(m) || !Number.isSafeInteger(m.memoryBytes) || !isRecord(m.globals) || (m.sections !== undefined && !isRecord(m.sections))) {
    throw new SnapshotError('snapshot metadata is malformed');
  }
  for (const [name, value] of Object.entries(m.globals)) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 32) {
      throw new SnapshotError(`snapshot global ${name} has an invalid value`);
    }
  }
  return { memoryBytes: m.memoryBytes as number, globals: m.globals as Record<string, number>, sections: m.sections ?? {} };
}
