// Snapshots of a session: the engine's instance state plus this layer's section, the in-memory
// files. Grants and limits are never taken from a snapshot: whoever restores states them again.
import type { ModuleVariant } from '../../engine/abi.js';
import type { EngineInstance } from './instance.js';
import { moduleSha256 } from './module.js';
import { decodeSnapshot, encodeSnapshot, type InstanceState, type SnapshotKey } from '../../engine/snapshot.js';
import { filesSection, readFilesSection } from '../python-common/snapshot-files.js';
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
  return encodeSnapshot(moduleSha256(variant), startImage(variant), { state: inst.captureState(), sections: { files: filesSection(vfs) } });
}

export interface RestoredSession {
  state: InstanceState;
  files: Record<string, Uint8Array>;
}

export function readSnapshot(bytes: Uint8Array, variant: ModuleVariant, maxMemoryBytes: number, key?: SnapshotKey): RestoredSession {
  const { state, sections } = decodeSnapshot(bytes, moduleSha256(variant), startImage(variant), maxMemoryBytes, key);
  return { state, files: readFilesSection(sections.files) };
}
