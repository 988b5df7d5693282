// Messages between the main thread and a worker thread, for every guest: a worker keeps one Python
// session (a Sandbox's, or a pool slot's), or runs modules, each in a fresh instance. Output crosses
// once, as bytes streamed while the guest writes; results come without it.
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
import type { ModuleMeta } from '../instrument/meter.js';
import type { Entry } from '../guests/wasi/guest.js';
import type { WasmRunOptions } from '../guests/wasi/options.js';
import type { WasmRunResult, WasmValue } from '../guests/wasi/result.js';
import type { Collected, RunFiles } from './run-files.js';

/** The interpreter a worker runs, with the main thread's compiled code (shared, not compiled again). */
export interface WorkerEngine {
  name: Engine;
  variant: ModuleVariant;
  /** What the engine's `adopt` takes (src/guests/registry.ts). */
  shared: unknown;
}

/** The Python session a worker keeps across its runs. */
export interface SessionData {
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
}

export interface WorkerData {
  /** A Python session's setup; absent for a worker that runs modules. */
  session?: SessionData;
  /** Host calls go to the main thread through this port and signal (src/core/blocking-call.ts). */
  hostPort: MessagePort;
  hostSignal: SharedArrayBuffer;
}

/** The options of a module run that cross to the worker: functions stay on the caller's side. */
export type CarriedRunOptions = Omit<WasmRunOptions, 'imports' | 'onStdout' | 'onStderr' | 'stdin'> & { stdin?: string | Uint8Array };

export type ToWorker =
  /** `fresh`: after this run, replace the interpreter with a new one (pools: a fresh one per run). */
  | { type: 'run'; id: number; code: string; limits: ResolvedLimits; fresh: boolean; program?: ProgramSpec; files?: RunFiles }
  /**
   * A module run. It carries the compiled module itself (structured cloning a WebAssembly.Module
   * shares its compiled code: the worker never recompiles) and the granted host functions' names
   * ("module.name"), each call going back to the caller's thread.
   */
  | { type: 'module'; id: number; module: WebAssembly.Module; meta: ModuleMeta; entry: Entry; options: CarriedRunOptions; hostImports: string[] }
  | { type: 'snapshot'; id: number }
  | { type: 'fs'; id: number; op: FsOp };

/** A result as it crosses: its output already went as it was written. */
export type WithoutOutput<R> = Omit<R, 'stdout' | 'stderr'>;

export interface OutputBatch {
  type: 'stdout' | 'stderr';
  bytes: Uint8Array;
}

export type FromWorker =
  | { type: 'ready' }
  | (OutputBatch & { id: number })
  /** `tail`: output not sent yet, the run's last batch (so a short run is one message back). */
  | { type: 'result'; id: number; result: WithoutOutput<PlainResult> | WithoutOutput<WasmRunResult>; collected?: Collected; tail?: OutputBatch }
  | { type: 'snapshot'; id: number; bytes: Uint8Array }
  | { type: 'fs'; id: number; result: { value: unknown } | { code: string; message: string } }
  /** `usage`: the request was refused as a UsageError (invalid options, what the engine does not support). */
  | { type: 'failed'; id: number; message: string; usage?: boolean };

/** A module's call of a granted host function, answered on the caller's thread. */
export interface HostCallRequest {
  job: number;
  key: string;
  args: WasmValue[];
}

/** `value`: a number or bigint, or a boolean or string the guest's side converts as inline. */
export type HostCallAnswer = { value: WasmValue | boolean | string | undefined } | { error: string };
