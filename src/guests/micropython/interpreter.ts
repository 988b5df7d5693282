// MicroPython's entry points on top of an engine instance: execute source, decode the outcome.
import { GuestMallocError, type EngineInstance } from './instance.js';
import { guardedCall, type CallOutcome } from '../../engine/stop.js';

// Proxy value kinds written by mp_js_do_exec (ports/webassembly/proxy_c.h).
const PROXY_KIND_MP_EXCEPTION = -1;
const EXC_SEPARATOR = '\x04'; // between the exception's type name and its printed traceback

export type ExecOutcome =
  | { kind: 'ok' }
  | { kind: 'exception'; type: string; traceback: string }
  | Exclude<CallOutcome, { kind: 'returned' }>;

const encoder = new TextEncoder();

const OUT_BYTES = 12; // one proxy value: kind and two words

/** `topLevelAwait`: compile with top-level await allowed (the guest's run_toplevel drives it). */
export function execSource(inst: EngineInstance, code: string, topLevelAwait = false): ExecOutcome {
  // Source and result share the instance's scratch buffer: the result slot first, then the
  // NUL-terminated source. The interpreter does not keep the source after compiling it.
  const src = encoder.encode(code);
  let out: number;
  try {
    out = inst.scratch(OUT_BYTES + src.length + 1);
  } catch (e) {
    if (!(e instanceof GuestMallocError)) throw e;
    const message = `memory limit of ${inst.hooks.memoryLimitBytes} bytes reached: the program text (${src.length} bytes) does not fit`;
    return { kind: 'stopped', reason: 'memory', message };
  }
  const srcPtr = out + OUT_BYTES;
  const view = inst.memory.bytes(srcPtr, src.length + 1);
  view.set(src);
  view[src.length] = 0;
  const outcome = guardedCall(() =>
    inst.call((e) => (topLevelAwait ? e.mp_js_do_exec_async : e.mp_js_do_exec)(srcPtr, src.length, out)),
  );
  // A trap after the cap refused memory: MicroPython failed while out of memory (some allocation
  // failures are fatal to it rather than a MemoryError). Report the cause, not the symptom.
  if (outcome.kind === 'fault' && inst.memoryCapReached) {
    return { kind: 'stopped', reason: 'memory', message: `memory limit of ${inst.hooks.memoryLimitBytes} bytes reached (${outcome.message})` };
  }
  if (outcome.kind !== 'returned') return outcome; // the instance is discarded: no cleanup
  let result: ExecOutcome = { kind: 'ok' };
  if (inst.memory.i32(out) === PROXY_KIND_MP_EXCEPTION) {
    const len = inst.memory.u32(out + 4);
    const ptr = inst.memory.u32(out + 8);
    const text = inst.memory.utf8(ptr, len);
    inst.free(ptr);
    const sep = text.indexOf(EXC_SEPARATOR);
    result = { kind: 'exception', type: text.slice(0, sep), traceback: text.slice(sep + 1) };
  }
  return result;
}

/** The last line of a printed traceback without its "Type: " prefix. */
export function exceptionMessage(type: string, traceback: string): string {
  const lines = traceback.trimEnd().split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (last === type) return '';
  return last.startsWith(type + ': ') ? last.slice(type.length + 2) : last;
}
