// Snapshots of a CPython session, in the container of src/engine/snapshot.ts (same header, tag and
// keys; engine 'cpython'; the module hash is the CPython build's). The body holds only what differs
// from the process's initialised template: the 4 KiB pages of memory that are not the template's
// (XOR-ed with it, so the unchanged bytes of a changed page deflate to almost nothing), the wasm
// globals, the libc's time-zone pointer, the in-memory files, and the deterministic clock and random
// source. A snapshot is untrusted input: every field is checked before any of it reaches an
// interpreter, and nothing in it can widen a grant or a limit (those are the restorer's).
import { nodeCrypto } from '../../core/lazy-builtins.js';
import { WASM_PAGE_BYTES } from '../../engine/abi.js';
import { isRecord, openSnapshot, packBody, sealSnapshot, SnapshotError, unpackBody, xorInto, type SnapshotKey } from '../../engine/snapshot.js';
import { readFilesSection } from '../python-common/snapshot-files.js';
import type { VirtualFS } from '../../vfs/vfs.js';
import { CPYTHON_STATE_PREFIX } from './abi.js';
import type { CPythonInstance } from './instance.js';
import { loadCPythonModule } from './module.js';
import { cpythonTemplate } from './template.js';

/** Granularity of the difference from the template: an OS page. */
export const SNAPSHOT_PAGE_BYTES = 4096;
const ZERO_BLOCK = Buffer.alloc(WASM_PAGE_BYTES);
const MiB = 1 << 20;
/** A virtual clock's elapsed time beyond this (about 30,000 years) is forged: nanoseconds overflow. */
const MAX_VIRTUAL_ELAPSED_MS = 1e15;
/** Room for the metadata beyond the memory and the files (page runs, globals, JSON framing). */
const META_ALLOWANCE_BYTES = 4 * MiB;

/** Where the deterministic clock and random source were, to go on from there (see `resumed*`). */
export interface DeterminismState {
  clock: { startMs: number; elapsedMs: number } | null;
  random: { seed: number; state: number } | null;
}

/** A session's whole state, in this process: what `fork` copies and a snapshot encodes. */
export interface CPythonSessionState {
  memoryBytes: number;
  /** Indices of the pages that differ from the template, ascending. */
  pages: number[];
  /** Those pages' contents, back to back. */
  data: Uint8Array;
  globals: Record<string, number>;
  zoneName: number;
  files: Record<string, Uint8Array>;
  determinism: DeterminismState;
}

interface Meta {
  memoryBytes: number;
  /** The pages as runs: [first page, count]. */
  pages: [number, number][];
  globals: Record<string, number>;
  zoneName: number;
  /** Identifies the template the pages differ from (see `templateDigest`). */
  template: string;
  sections: { files: Record<string, string>; determinism: DeterminismState };
}

let digest: string | null = null;

/**
 * The template's identity. The module's hash is not enough: a process without the build's baked
 * state initialises its own, whose memory differs (random seeds drawn while importing).
 */
function templateDigest(): string {
  if (digest === null) {
    const hash = nodeCrypto().createHash('sha256');
    for (const [at, bytes] of cpythonTemplate().state.chunks) hash.update(`${at}:${bytes.length};`).update(bytes);
    digest = hash.digest('hex');
  }
  return digest;
}

/** The interpreter's state between runs (the caller makes sure no run is in progress). */
export function captureSession(inst: CPythonInstance, vfs: VirtualFS, determinism: DeterminismState): CPythonSessionState {
  const template = { image: Buffer.from(cpythonTemplate().image.buffer), pages: imagePages() };
  const memoryBytes = inst.memoryBytes;
  const view = inst.memory.bytes(0, memoryBytes);
  // A view of the memory, not a copy (Buffer.from of a typed array copies: ~7,700 fresh pages).
  const now = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  const pages: number[] = [];
  // Wasm pages first: most of them are untouched, and one compare per 64 KiB is cheaper than sixteen.
  for (let block = 0; block < memoryBytes; block += WASM_PAGE_BYTES) {
    if (sameAsTemplate(now, template, block, WASM_PAGE_BYTES)) continue;
    for (let at = block; at < block + WASM_PAGE_BYTES; at += SNAPSHOT_PAGE_BYTES) {
      if (!sameAsTemplate(now, template, at, SNAPSHOT_PAGE_BYTES)) pages.push(at / SNAPSHOT_PAGE_BYTES);
    }
  }
  const data = new Uint8Array(pages.length * SNAPSHOT_PAGE_BYTES);
  pages.forEach((page, i) => data.set(now.subarray(page * SNAPSHOT_PAGE_BYTES, (page + 1) * SNAPSHOT_PAGE_BYTES), i * SNAPSHOT_PAGE_BYTES));
  const { globals, zoneName } = inst.registers();
  return { memoryBytes, pages, data, globals, zoneName, files: Object.fromEntries(vfs.memory.files()), determinism };
}

let nonZeroPages: Uint8Array | null = null;

/**
 * Which 4 KiB pages of the template's image hold anything. The others are compared with zeros, not
 * read from the image: reading a page maps it, and ~5,700 of its ~7,700 pages are zero.
 */
function imagePages(): Uint8Array {
  if (nonZeroPages === null) {
    const { image, state } = cpythonTemplate();
    nonZeroPages = new Uint8Array(Math.ceil(image.length / SNAPSHOT_PAGE_BYTES));
    for (const [at, bytes] of state.chunks) {
      for (let page = Math.floor(at / SNAPSHOT_PAGE_BYTES); page * SNAPSHOT_PAGE_BYTES < at + bytes.length; page++) nonZeroPages[page] = 1;
    }
  }
  return nonZeroPages;
}

/** Whether `now[at, at + length)` (within one wasm page) is the template's (zero where its pages are). */
function sameAsTemplate(now: Buffer, template: { image: Buffer; pages: Uint8Array }, at: number, length: number): boolean {
  for (let run = at, end = at + length; run < end; ) {
    // The longest run of pages of one kind: the image's, or zero.
    const fromImage = template.pages[run / SNAPSHOT_PAGE_BYTES] === 1;
    let stop = run + SNAPSHOT_PAGE_BYTES;
    while (stop < end && (template.pages[stop / SNAPSHOT_PAGE_BYTES] === 1) === fromImage) stop += SNAPSHOT_PAGE_BYTES;
    const same = fromImage ? now.compare(template.image, run, stop, run, stop) : now.compare(ZERO_BLOCK, 0, stop - run, run, stop);
    if (same !== 0) return false;
    run = stop;
  }
  return true;
}

/** Makes a fresh interpreter (in the template's state) continue from a checked `state`. */
export function applySession(inst: CPythonInstance, state: CPythonSessionState): void {
  const chunks: [number, Uint8Array][] = state.pages.map((page, i) => [
    page * SNAPSHOT_PAGE_BYTES,
    state.data.subarray(i * SNAPSHOT_PAGE_BYTES, (i + 1) * SNAPSHOT_PAGE_BYTES),
  ]);
  inst.restoreState({ memoryBytes: state.memoryBytes, chunks, globals: state.globals, zoneName: state.zoneName });
}

/** XORs each page of `data` (page `pages[i]` at `i`) with the template's (none past its end). */
function xorWithTemplate(data: Uint8Array, pages: number[], image: Uint8Array): void {
  pages.forEach((page, i) => {
    const at = page * SNAPSHOT_PAGE_BYTES;
    if (at >= image.length) return;
    xorInto(data.subarray(i * SNAPSHOT_PAGE_BYTES, (i + 1) * SNAPSHOT_PAGE_BYTES), image.subarray(at, at + SNAPSHOT_PAGE_BYTES));
  });
}

/** Pages as runs of consecutive indices. */
function runsOf(pages: number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const page of pages) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === page) last[1]++;
    else runs.push([page, 1]);
  }
  return runs;
}

export function encodeSession(state: CPythonSessionState, key?: SnapshotKey): Uint8Array {
  const image = cpythonTemplate().image;
  const files: Record<string, string> = {};
  for (const [path, data] of Object.entries(state.files)) files[path] = Buffer.from(data).toString('base64');
  const meta: Meta = {
    memoryBytes: state.memoryBytes,
    pages: runsOf(state.pages),
    globals: state.globals,
    zoneName: state.zoneName,
    template: templateDigest(),
    sections: { files, determinism: state.determinism },
  };
  const body = packBody(meta, state.data.length, (pages) => {
    pages.set(state.data);
    xorWithTemplate(pages, state.pages, image);
  }, 1);
  return sealSnapshot('cpython', loadCPythonModule().sha256, body, key);
}

/** What a restore may hold: the sandbox's memory limit, its files quota. */
export interface RestoreBounds {
  maxMemoryBytes: number;
  maxFileBytes: number;
}

/**
 * Checks and decodes a snapshot of a CPython session: the frame, tag, engine and build first
 * (src/engine/snapshot.ts), then the inflated size, then every field of the metadata.
 */
export function decodeSession(bytes: Uint8Array, bounds: RestoreBounds, key?: SnapshotKey): CPythonSessionState {
  const body = openSnapshot(bytes, 'cpython', loadCPythonModule().sha256, key);
  const { maxMemoryBytes, maxFileBytes } = bounds;
  // base64 files take 4/3 of their size.
  const maxPlainBytes = maxMemoryBytes + Math.ceil((maxFileBytes * 4) / 3) + META_ALLOWANCE_BYTES;
  const { meta: raw, data } = unpackBody(body, maxPlainBytes, maxMemoryBytes);
  const meta = checkMeta(raw);
  const template = cpythonTemplate();
  if (meta.template !== templateDigest()) {
    throw new SnapshotError(
      "snapshot was made over another initialised CPython state than this process's (was one of the two processes run without the build's wasm/cpython-state.bin?)",
    );
  }
  const memoryBytes = checkMemorySize(meta.memoryBytes, template.state.memoryBytes, maxMemoryBytes, template.limits.maximumPages);
  const pages = checkPages(meta.pages, memoryBytes / SNAPSHOT_PAGE_BYTES);
  if (data.length !== pages.length * SNAPSHOT_PAGE_BYTES) throw new SnapshotError('snapshot memory pages do not match their index');
  xorWithTemplate(data, pages, template.image);
  return {
    memoryBytes,
    pages,
    data,
    globals: checkGlobals(meta.globals, template.state.globals),
    zoneName: checkPointer(meta.zoneName, memoryBytes),
    files: readFilesSection(meta.sections.files),
    determinism: checkDeterminism(meta.sections.determinism),
  };
}

function checkMeta(meta: unknown): Meta {
  if (!isRecord(meta) || !isRecord(meta.sections) || !Array.isArray(meta.pages) || typeof meta.template !== 'string') {
    throw new SnapshotError('snapshot metadata is malformed');
  }
  return meta as unknown as Meta;
}

/** Whole wasm pages, no smaller than a fresh interpreter's, within the limit and the module's maximum. */
function checkMemorySize(value: unknown, templateBytes: number, maxMemoryBytes: number, maximumPages: number): number {
  if (!Number.isSafeInteger(value) || (value as number) % WASM_PAGE_BYTES !== 0 || (value as number) < templateBytes) {
    throw new SnapshotError('snapshot memory size is invalid');
  }
  const bytes = value as number;
  if (bytes > maxMemoryBytes) throw new SnapshotError(`snapshot needs ${bytes} bytes of memory, over the limit of ${maxMemoryBytes}`);
  if (bytes > maximumPages * WASM_PAGE_BYTES) throw new SnapshotError('snapshot memory is larger than the module allows');
  return bytes;
}

/** Runs of page indices: ascending, not overlapping, inside the memory. */
function checkPages(runs: unknown[], pageCount: number): number[] {
  const pages: number[] = [];
  let next = 0;
  for (const run of runs) {
    if (!Array.isArray(run) || run.length !== 2 || !run.every((n) => Number.isSafeInteger(n))) throw new SnapshotError('snapshot page index is malformed');
    const [first, count] = run as [number, number];
    if (first < next || count < 1 || first + count > pageCount) throw new SnapshotError(`snapshot page index ${first}+${count} is out of order or out of range`);
    for (let p = first; p < first + count; p++) pages.push(p);
    next = first + count;
  }
  return pages;
}

/** Exactly the module's state globals, each an i32. */
function checkGlobals(value: unknown, template: Record<string, number>): Record<string, number> {
  if (!isRecord(value)) throw new SnapshotError('snapshot globals are malformed');
  const names = Object.keys(template);
  const given = Object.keys(value);
  if (given.length !== names.length || !given.every((n) => names.includes(n) && n.startsWith(CPYTHON_STATE_PREFIX))) {
    throw new SnapshotError(`snapshot globals are not this module's (${names.length} expected: ${names.join(', ')})`);
  }
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new SnapshotError(`snapshot global ${name} has an invalid value`);
  }
  return value as Record<string, number>;
}

function checkPointer(value: unknown, memoryBytes: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) >= memoryBytes) throw new SnapshotError('snapshot time-zone pointer is invalid');
  return value as number;
}

function checkDeterminism(value: unknown): DeterminismState {
  if (!isRecord(value)) throw new SnapshotError('snapshot determinism section is malformed');
  const { clock, random } = value;
  const ms = (n: unknown) => typeof n === 'number' && n >= 0 && n <= MAX_VIRTUAL_ELAPSED_MS;
  const clockOk = clock === null || (isRecord(clock) && Number.isFinite(clock.startMs) && ms(clock.elapsedMs));
  const u32 = (n: unknown) => Number.isInteger(n) && (n as number) >= 0 && (n as number) < 2 ** 32;
  const randomOk = random === null || (isRecord(random) && Number.isSafeInteger(random.seed) && u32(random.state));
  if (!clockOk || !randomOk) throw new SnapshotError('snapshot determinism section is malformed');
  return value as unknown as DeterminismState;
}

/** Virtual time a restored clock starts from: the snapshot's, if it was made with the same clock option. */
export function resumedElapsedMs(restored: CPythonSessionState | undefined, startMs: number): number {
  const clock = restored?.determinism.clock;
  return clock && clock.startMs === startMs ? clock.elapsedMs : 0;
}

/** Where a restored random source starts: the snapshot's position, if it was made with the same seed. */
export function resumedRandomState(restored: CPythonSessionState | undefined, seed: number): number {
  const random = restored?.determinism.random;
  return random && random.seed === seed ? random.state : seed >>> 0;
}

/** The files of a snapshot's session under the restorer's own (which win) and its mounts. */
export function filesWithRestored<T extends { files?: Record<string, string | Uint8Array> }>(options: T, restored: CPythonSessionState | undefined): T {
  return restored ? { ...options, files: { ...restored.files, ...options.files } } : options;
}
