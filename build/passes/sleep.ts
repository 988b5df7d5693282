// MicroPython's webassembly port sleeps by spinning on the clock:
//   mp_hal_delay_ms(ms) { start = ticks_ms(); while (ticks_ms() - start < ms) {} }
// (and mp_hal_delay_us the same with ticks_ms() * 1000). Spinning burns CPU and fuel, and in
// deterministic mode it would never end. Both bodies become one host call, which sleeps (or
// advances a virtual clock) and enforces the deadline.
//
// A KeyboardInterrupt scheduled while the guest sleeps (an interrupt wakes the sleep, as does a soft
// stop) is raised inside the sleep, as python3 raises it from time.sleep: the VM would only raise it
// at its next jump, which for `try: time.sleep(5)` comes after the try block's handler is gone, so
// `except KeyboardInterrupt` never ran (a `finally` did).
import binaryen from 'binaryen';
import { FunctionNode } from '../binaryen-extra.js';
import { constAddress, expressions, info, kind } from '../walk.js';
import { definedFunctionNames, exportedFunction, importedFunctions, type Module } from '../wasm-inspect.js';
import { HOST_IMPORT_MODULE, SLEEP_MS_IMPORT } from '../../src/engine/abi.js';

const SLEEP_FUNC = 'pyfence_sleep_ms';

function spinPattern(ticks: string, scaled: boolean): string {
  const elapsed = `(i32.sub\n (call $${ticks})\n (local.get $1)\n)`;
  const measured = scaled ? `(i32.mul\n ${elapsed}\n (i32.const 1000)\n)` : elapsed;
  return `(block (local.set $1 (call $${ticks})) (loop $label (br_if $label (i32.lt_u ${measured} (local.get $0)))))`;
}

const squash = (text: string) => text.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();

export interface SleepReport {
  delayMs: string;
  delayUs: string;
  /** Where a pending exception is kept, the KeyboardInterrupt's address, and nlr_jump, which raises it. */
  pendingException: number;
  keyboardInterrupt: number;
  nlrJump: string;
}

/** An i32 constant, or a sum of them, as the compiler leaves addresses; NaN otherwise. */
function constValue(e: number): number {
  if (kind(e) === binaryen.ConstId) return info(e).value;
  if (kind(e) === binaryen.BinaryId && info(e).op === binaryen.AddInt32) return constValue(info(e).left) + constValue(info(e).right);
  return NaN;
}

/**
 * `mp_sched_keyboard_interrupt` (exported) starts by storing the address of the VM's KeyboardInterrupt
 * into the pending-exception slot: both constants.
 */
function pendingKeyboardInterrupt(m: Module): { slot: number; value: number } {
  const body = binaryen.getFunctionInfo(m.getFunction(exportedFunction(m, 'mp_sched_keyboard_interrupt'))).body;
  const store = expressions(body).find((e) => kind(e) === binaryen.StoreId);
  const slot = store === undefined ? NaN : constAddress(store);
  const value = store === undefined ? NaN : constValue(info(store).value);
  if (!Number.isFinite(slot) || !Number.isFinite(value) || info(store!).bytes !== 4) throw new Error('sleep: mp_sched_keyboard_interrupt does not start with a constant store');
  return { slot, value };
}

/** The functions whose bodies call `callee`. */
function callersOf(m: Module, callee: string): string[] {
  return definedFunctionNames(m).filter((name) =>
    expressions(binaryen.getFunctionInfo(m.getFunction(name)).body).some((e) => kind(e) === binaryen.CallId && info(e).target === callee),
  );
}

/**
 * nlr_jump(exception): the one function (i32) -> () that calls longjmp, which is the one function
 * calling `thrower` (the build's longjmp throw, build/passes/exceptions.ts).
 */
function nlrJump(m: Module, thrower: string): string {
  const longjmp = callersOf(m, thrower);
  if (longjmp.length !== 1) throw new Error(`sleep: expected one longjmp, found ${longjmp.length}`);
  const jumps = callersOf(m, longjmp[0]).filter((name) => {
    const f = binaryen.getFunctionInfo(m.getFunction(name));
    return f.params === binaryen.i32 && f.results === binaryen.none;
  });
  if (jumps.length !== 1) throw new Error(`sleep: expected one nlr_jump, found ${jumps.length}`);
  return jumps[0];
}

/** `thrower`: the function longjmp ends in (ExceptionReport.thrower). */
export function replaceSpinSleeps(m: Module, thrower: string): SleepReport {
  const ticks = importedFunctions(m).find((f) => f.module === 'env' && f.base === 'mp_js_ticks_ms');
  if (!ticks) throw new Error('sleep: mp_js_ticks_ms import not found');
  const msPattern = squash(spinPattern(ticks.name, false));
  const usPattern = squash(spinPattern(ticks.name, true));
  const found: Record<'ms' | 'us', string[]> = { ms: [], us: [] };
  for (const name of definedFunctionNames(m)) {
    const info = binaryen.getFunctionInfo(m.getFunction(name));
    if (info.params !== binaryen.i32 || info.results !== binaryen.none) continue;
    const text = squash(binaryen.emitText(info.body));
    if (text === msPattern) found.ms.push(name);
    else if (text === usPattern) found.us.push(name);
  }
  if (found.ms.length !== 1 || found.us.length !== 1) {
    throw new Error(`sleep: expected one delay_ms and one delay_us spin loop, found ${found.ms.length} and ${found.us.length}`);
  }
  const pending = pendingKeyboardInterrupt(m);
  const raise = nlrJump(m, thrower);
  m.addFunctionImport(SLEEP_FUNC, HOST_IMPORT_MODULE, SLEEP_MS_IMPORT, binaryen.i32, binaryen.none);
  // Sleep unless a KeyboardInterrupt is already pending (it came before the call: no sleep), then
  // raise one that is pending, taking it as the VM does.
  const interruptPending = () => m.i32.eq(m.i32.load(0, 4, m.i32.const(pending.slot)), m.i32.const(pending.value));
  const sleepThenRaise = (ms: number) =>
    m.block(null, [
      m.if(m.i32.eqz(interruptPending()), m.call(SLEEP_FUNC, [ms], binaryen.none)),
      m.if(
        interruptPending(),
        m.block(null, [m.i32.store(0, 4, m.i32.const(pending.slot), m.i32.const(0)), m.call(raise, [m.i32.const(pending.value)], binaryen.none)]),
      ),
    ]);
  const ms = m.getFunction(found.ms[0]);
  FunctionNode.setBody(ms, sleepThenRaise(m.local.get(0, binaryen.i32)));
  // Microseconds round up to whole milliseconds, the clock's resolution in this port.
  const us = m.getFunction(found.us[0]);
  const usToMs = m.i32.add(
    m.i32.div_u(m.local.get(0, binaryen.i32), m.i32.const(1000)),
    m.i32.ne(m.i32.rem_u(m.local.get(0, binaryen.i32), m.i32.const(1000)), m.i32.const(0)),
  );
  FunctionNode.setBody(us, sleepThenRaise(usToMs));
  return { delayMs: found.ms[0], delayUs: found.us[0], pendingException: pending.slot, keyboardInterrupt: pending.value, nlrJump: raise };
}
