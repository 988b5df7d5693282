// Messages between a WorkerSession and its worker thread.
import type { MessagePort } from 'node:worker_threads';
import type { ModuleVariant } from '../engine/abi.js';
import type { ResolvedLimits } from '../core/limits.js';
import type { PlainResult } from '../guests/python-common/result.js';
import type { ProgramSpec } from '../guests/python-common/program.js';
import type { Determinism } from '../core/determinism.js';
import type { VfsOptions } from '../vfs/vfs.js';
import type { FsOp } from '../capabilities/sandbox-fs.js';
import type { GrantedNames } from '../capabilities/host-call-gate.js';
import type { Engine } from '../capabilities/resolved-options.js';
import type { Collected, RunFiles } from './run-files.js';

/** The interpreter a worker runs, with the main thread's compiled code (shared, not compiled again). */
export interface WorkerEngine {
  name: Engine;
  variant: ModuleVariant;
  /** What the engine's `adopt` takes (src/guests/registry.ts). */
  shared: unknown;
}

export interface WorkerData {
  engine: WorkerEngine;
  /** JSON for `__pyfence__.setup`, or null. */
  guestSpec: string | null;
  /** The functions the guest may call: the worker's gate checks and decodes requests against them. */
  granted: GrantedNames;
  determinism: Determinism;
  denied: string[];
  vfs: VfsOptions;
  /** Start from this state (a restored snapshot, as the engine read it) instead of a fresh interpreter. */
  restored?: { state: unknown; limits: ResolvedLimits };
  /** Set to 1 (and notified) to interrupt the running code. */
  interrupt: SharedArrayBuffer;
  /** Host calls go to the main thread through this port and signal (src/core/blocking-call.ts). */
  hostPort: MessagePort;
  hostSignal: SharedArrayBuffer;
}

export type ToWorker =
  /** `fresh`: after this run, replace the interpreter with a new one (pools: a fresh one per run). */
  | { type: 'run'; id: number; code: string; limits: ResolvedLimits; fresh: boolean; program?: ProgramSpec; files?: RunFiles }
  | { type: 'snapshot'; id: number }
  | { type: 'fs'; id: number; op: FsOp };


export type FromWorker =
  | { type: 'ready' }
  | { type: 'stdout' | 'stderr'; id: number; text: string }
  | { type: 'result'; id: number; result: PlainResult; collected?: Collected }
  | { type: 'snapshot'; id: number; bytes: Uint8Array }
  | { type: 'fs'; id: number; result: { value: unknown } | { code: string; message: string } }
  /** `usage`: the request was refused as a UsageError (e.g. what the engine does not support). */
  | { type: 'failed'; id: number; message: string; usage?: boolean };
