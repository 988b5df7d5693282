// What a run of a module gives back, and how a thrown value becomes that outcome.
import { ProcExit } from '../../abi/wasi-p1/wasi.js';
import type { ErrorInfo, ErrorKind } from '../../core/errors.js';
import type { RunResultBase } from '../../core/result.js';
import { HostStop, stopInfo } from '../../core/stop.js';

export interface WasmErrorInfo extends ErrorInfo {
  kind: Exclude<ErrorKind, 'python'>;
}

export type WasmValue = number | bigint;

export interface WasmRunResult extends RunResultBase<WasmErrorInfo> {
  /** The program ran to its end (returned, or called proc_exit), whatever its exit code. */
  ok: boolean;
  /** The program's exit code when ok; otherwise the stop's code in EXIT_CODES (what the CLI exits with). */
  exitCode: number;
  /** What an invoked export returned (i64 as BigInt). */
  result?: WasmValue[];
}

/**
 * A fault with its own type name (a host function's error, no memory to write to), thrown from a host
 * import. Like a HostStop it unwinds the guest, which cannot catch it (exception handling is not enabled).
 */
export class ModuleFault extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** A thrown value as the run's outcome: an exit, a stop, or a trap. */
export function classify(e: unknown, exit: (code: number) => void): WasmErrorInfo | null {
  if (e instanceof ProcExit) {
    exit(e.code);
    return null;
  }
  if (e instanceof HostStop) return stopInfo(e.reason, e.message);
  if (e instanceof ModuleFault) return { kind: 'fault', type: e.type, message: e.message };
  if (e instanceof WebAssembly.RuntimeError) return { kind: 'fault', type: 'Trap', message: e.message };
  if (e instanceof RangeError && /call stack/i.test(e.message)) return { kind: 'fault', type: 'StackOverflow', message: `stack overflow: ${e.message}` };
  if (e instanceof WebAssembly.LinkError) return { kind: 'denied', type: 'LinkError', message: e.message };
  return { kind: 'fault', type: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e) };
}
