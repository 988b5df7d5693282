// Messages between a WasmPool and its worker threads. A job carries the compiled module itself
// (structured cloning a WebAssembly.Module shares its compiled code: the worker never recompiles).
import type { MessagePort } from 'node:worker_threads';
import type { ModuleMeta } from '../instrument/meter.js';
import type { Entry } from '../guests/wasi/guest.js';
import type { WasmRunResult, WasmValue } from '../guests/wasi/result.js';
import type { WasmRunOptions } from '../guests/wasi/options.js';

export interface WasmWorkerData {
  /** Granted host functions are called on the pool's thread through this port and signal. */
  hostPort: MessagePort;
  hostSignal: SharedArrayBuffer;
}

/** The options that cross to the worker: functions stay on the pool's side. */
export type CarriedRunOptions = Omit<WasmRunOptions, 'imports' | 'onStdout' | 'onStderr' | 'stdin'> & { stdin?: string | Uint8Array };

export interface WasmJob {
  id: number;
  module: WebAssembly.Module;
  meta: ModuleMeta;
  entry: Entry;
  options: CarriedRunOptions;
  /** The granted host functions' names ("module.name"); each call goes back to the pool's thread. */
  hostImports: string[];
  /** Send output as it is written (the caller asked for onStdout/onStderr). */
  stream: boolean;
}

export type FromWasmWorker =
  | { type: 'ready' }
  | { type: 'stdout' | 'stderr'; id: number; bytes: Uint8Array }
  | { type: 'result'; id: number; result: WasmRunResult }
  /** The run was refused before it started: invalid options (`usage`) or a host error. */
  | { type: 'failed'; id: number; usage: boolean; message: string };

export interface HostCallRequest {
  job: number;
  key: string;
  args: WasmValue[];
}

/** `value`: a number or bigint, or a boolean or string the guest's side converts as inline. */
export type HostCallAnswer = { value: WasmValue | boolean | string | undefined } | { error: string };
