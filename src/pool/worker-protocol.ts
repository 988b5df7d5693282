// Messages between a WorkerSession and its worker thread.
import type { ModuleVariant } from '../engine/abi.js';
import type { ResolvedLimits } from '../python/options.js';
import type { RunErrorInfo } from '../python/errors.js';
import type { RunUsage } from '../python/result.js';

export interface WorkerData {
  variant: ModuleVariant;
}

export type ToWorker = { type: 'run'; id: number; code: string; limits: ResolvedLimits };

export interface PlainResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  error: RunErrorInfo | null;
  usage: RunUsage;
  sandboxReplaced: boolean;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'stdout' | 'stderr'; id: number; text: string }
  | { type: 'result'; id: number; result: PlainResult }
  | { type: 'failed'; id: number; message: string };
