// Snapshots of a session: the engine's instance state plus this layer's section, the in-memory
// files. Grants and limits are never taken from a snapshot: whoever restores states them again.
import type { ModuleVariant } from '../../engine/abi.js';
import type { EngineInstance } from './instance.js';
import { loadSandboxModule } from './module.js';
import { decodeSnapshot, encodeSnapshot, SnapshotError, type InstanceState, type SnapshotKey } from '../../engine/snapshot.js';
import { normalize } from '../../vfs/paths.js';
import type { VirtualFS } from '../../vfs/vfs.js';
import { newInstance } from './instances.js';

const startImages = new Map<ModuleVariant, Uint8Array>();

/** The memory of a fresh instance: what a snapshot stores its difference against. */
function startImage(variant: ModuleVariant): Uint8Array {
  let image = startImages.get(variant);
  if (!image) {
    const inst = newInstance(variant);
    image = inst.memory.bytes(0, inst.memoryBytes).slice();
    inst.release();
    startImages.set(variant, image);
  }
  return image;
}

/** The in-memory files go with the session (host mounts do not: the restorer grants its own). */
export function snapshotInstance(inst: EngineInstance, variant: ModuleVariant, vfs: VirtualFS): Uint8Array {
  return encodeSnapshot(loadSandboxModule(variant).sha256, startImage(variant), { state: inst.captureState(), sections: { files: filesSection(vfs) } });
}

/** The session's in-memory files as a snapshot section (base64 by path). */
export function filesSection(vfs: VirtualFS): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [path, data] of vfs.memory.files()) files[path] = Buffer.from(data).toString('base64');
  return files;
}

/** A snapshot's files section, checked: only paths the session itself could have written. */
export function readFilesSection(raw: unknown): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) throw new SnapshotError('snapshot files section is malformed');
  for (const [path, data] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    if (typeof data !== 'string' || !isNormalPath(path)) throw new SnapshotError('snapshot files section is malformed');
    files[path] = new Uint8Array(Buffer.from(data, 'base64'));
  }
  return files;
}

export interface RestoredSession {
  state: InstanceState;
  files: Record<string, Uint8Array>;
}

export function readSnapshot(bytes: Uint8Array, variant: ModuleVariant, maxMemoryBytes: number, key?: SnapshotKey): RestoredSession {
  const { state, sections } = decodeSnapshot(bytes, loadSandboxModule(variant).sha256, startImage(variant), maxMemoryBytes, key);
  return { state, files: readFilesSection(sections.files) };
}

/** Only paths the session itself could have written: absolute and already normalised. */
function isNormalPath(path: string): boolean {
  try {
    return path !== '/' && normalize(path) === path;
  } catch {
    return false;
  }
}
