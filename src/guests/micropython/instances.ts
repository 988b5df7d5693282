// Engine instances as this layer creates them: idle (no output, no host calls) until a run sets hooks.
import type { ModuleVariant } from '../../engine/abi.js';
import { idleHooks } from '../python-common/idle-hooks.js';
import { EngineInstance } from './instance.js';
import { sandboxModule } from './module.js';
import type { VirtualFS } from '../../vfs/vfs.js';

export function newInstance(variant: ModuleVariant, vfs?: VirtualFS): EngineInstance {
  return new EngineInstance(sandboxModule(variant), idleHooks, vfs);
}
