// Engine instances as this layer creates them: idle (no output, no host calls) until a run sets hooks.
import type { ModuleVariant } from '../../engine/abi.js';
import { systemClock, systemRandomU32, type HostHooks } from '../../engine/host.js';
import { EngineInstance } from './instance.js';
import { sandboxModule } from './module.js';
import type { VirtualFS } from '../../vfs/vfs.js';

/** Between runs the guest cannot execute, but any stray output is dropped rather than leaked. */
export const idleHooks: HostHooks = {
  stdout: () => {},
  stderr: () => {},
  clock: systemClock,
  randomU32: systemRandomU32,
  memoryLimitBytes: 0,
  sleep: () => {},
  hostCall: () => '{"error":["RuntimeError","the sandbox is not running"]}',
};

export function newInstance(variant: ModuleVariant, vfs?: VirtualFS): EngineInstance {
  return new EngineInstance(sandboxModule(variant), idleHooks, vfs);
}
