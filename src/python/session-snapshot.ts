// Snapshots of a session: the engine's instance state plus the sections of this layer (none yet
// besides the state; files join when the virtual filesystem does). Grants and limits are never
// taken from a snapshot: whoever restores states them again.
import type { ModuleVariant } from '../engine/abi.js';
import type { EngineInstance } from '../engine/instance.js';
import { loadSandboxModule } from '../engine/module.js';
import { decodeSnapshot, encodeSnapshot, type InstanceState } from '../engine/snapshot.js';
import { newInstance } from './instances.js';

const startImages = new Map<ModuleVariant, Uint8Array>();

/** The memory of a fresh instance: what a snapshot stores its difference against. */
function startImage(variant: ModuleVariant): Uint8Array {
  let image = startImages.get(variant);
  if (!image) {
    const inst = newInstance(variant);
    image = inst.memory.bytes(0, inst.memory.byteLength).slice();
    startImages.set(variant, image);
  }
  return image;
}

export function snapshotInstance(inst: EngineInstance, variant: ModuleVariant): Uint8Array {
  return encodeSnapshot(loadSandboxModule(variant).sha256, startImage(variant), { state: inst.captureState(), sections: {} });
}

export function readSnapshot(bytes: Uint8Array, variant: ModuleVariant, maxMemoryBytes: number): InstanceState {
  return decodeSnapshot(bytes, loadSandboxModule(variant).sha256, startImage(variant), maxMemoryBytes).state;
}
