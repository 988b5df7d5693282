// A sandbox's options as resolved once (src/api/options.ts validates them): what every session of
// the sandbox is built from, on any thread and for any engine, and the two capabilities built from
// them for each session (the host-function bridge and the filesystem).
import type { Determinism } from '../core/determinism.js';
import { UsageError } from '../core/errors.js';
import type { ResolvedLimits } from '../core/limits.js';
import type { SnapshotKey } from '../engine/snapshot.js';
import { VirtualFS, type VfsOptions } from '../vfs/vfs.js';
import { HostBridge, type HostModules } from './host-functions.js';
import { netCalls } from './net/net-calls.js';
import type { NetPolicy } from './net/allow-list.js';

export type Isolation = 'inline' | 'worker';

export type Engine = 'micropython' | 'cpython';

/** What is set up inside every fresh interpreter of a sandbox (see `__pyfence__.setup` in prelude.ts). */
export interface GuestSpec {
  modules?: Record<string, Record<string, boolean>>;
  env?: Record<string, string>;
  argv?: string[];
  net?: boolean;
  denied?: string[];
}

export interface ResolvedSandboxOptions {
  engine: Engine;
  limits: ResolvedLimits;
  isolation: Isolation;
  modules: HostModules;
  net: NetPolicy | null;
  determinism: Determinism;
  /** Modules the guest may not import (sorted). */
  denied: string[];
  /** The filesystem to build for each session. */
  vfs: VfsOptions;
  /** JSON for `__pyfence__.setup`, or null when there is nothing to set up. */
  guestSpec: string | null;
  snapshotKey: SnapshotKey | null;
  /** An inline sandbox idle this long hibernates (null: never). */
  hibernateAfterMs: number | null;
}

export function hostBridge(resolved: ResolvedSandboxOptions): HostBridge {
  return new HostBridge(resolved.modules, resolved.net ? netCalls(resolved.net) : {});
}

/** The session's filesystem: the restored session's files, then the options' files and mounts. */
export function buildVfs(resolved: ResolvedSandboxOptions['vfs'], restoredFiles?: Record<string, Uint8Array>): VirtualFS {
  try {
    return new VirtualFS({ ...resolved, files: { ...restoredFiles, ...resolved.files } });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
