// MicroPython's webassembly port sleeps by spinning on the clock:
//   mp_hal_delay_ms(ms) { start = ticks_ms(); while (ticks_ms() - start < ms) {} }
// (and mp_hal_delay_us the same with ticks_ms() * 1000). Spinning burns CPU and fuel, and in
// deterministic mode it would never end. Both bodies become one host call, which sleeps (or
// advances a virtual clock) and enforces the deadline.
import binaryen from 'binaryen';
import { FunctionNode } from '../binaryen-extra.js';
import { definedFunctionNames, importedFunctions, type Module } from '../wasm-inspect.js';
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
}

export function replaceSpinSleeps(m: Module): SleepReport {
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
  m.addFunctionImport(SLEEP_FUNC, HOST_IMPORT_MODULE, SLEEP_MS_IMPORT, binaryen.i32, binaryen.none);
  const ms = m.getFunction(found.ms[0]);
  FunctionNode.setBody(ms, m.call(SLEEP_FUNC, [m.local.get(0, binaryen.i32)], binaryen.none));
  // Microseconds round up to whole milliseconds, the clock's resolution in this port.
  const us = m.getFunction(found.us[0]);
  const usToMs = m.i32.add(
    m.i32.div_u(m.local.get(0, binaryen.i32), m.i32.const(1000)),
    m.i32.ne(m.i32.rem_u(m.local.get(0, binaryen.i32), m.i32.const(1000)), m.i32.const(0)),
  );
  FunctionNode.setBody(us, m.call(SLEEP_FUNC, [usToMs], binaryen.none));
  return { delayMs: found.ms[0], delayUs: found.us[0] };
}
