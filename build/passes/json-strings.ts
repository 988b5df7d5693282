// json.dumps writes every str through mp_str_print_json, which prints each character that needs no
// escape with its own `mp_printf(print, "%c", c)`: a format string parsed per character. It was the
// largest single function in a profile of json.dumps-heavy code.
//
// This rewrites that one path: from the character on, the run of characters that need no escape (32 and
// over, neither '"' nor '\') is written with one call of the printer's print_strn (the mp_print_t's
// second field, as mp_print_str calls it), and the walk goes on after the run. The same bytes reach the
// printer in the same order; escapes still go through the function's own code.
//
// Found by structure: the function of three i32 parameters (print, str, len) and no result whose loop
// reads `c = str[i]`, compares it with 92 and 34, and has a block that starts `br_if (c < 32)` followed
// by a store and the dropped printf call; the loop goes round while `++str < end`.
import binaryen from 'binaryen';
import { BlockNode, FunctionNode } from '../binaryen-extra.js';
import { definedFunctionNames, type Module } from '../wasm-inspect.js';
import { expressions, info, isConst, isGet, kind } from '../walk.js';

export interface JsonStringsReport {
  /** mp_str_print_json, by its internal name. */
  printer: string;
}


interface PlainPath {
  /** The block `{ br_if (c < 32); store; drop(printf); ... }` and the printf's index in it. */
  block: number;
  printfAt: number;
  /** The local holding the string's end. */
  end: number;
}

function plainPath(body: number): PlainPath | null {
  // The loop's back edge: br_if $loop (tee $str ($str + 1) < end), with str the second parameter.
  let end = -1;
  for (const e of expressions(body)) {
    if (kind(e) !== binaryen.BreakId || !info(e).condition) continue;
    const c = info(e).condition;
    if (kind(c) !== binaryen.BinaryId || info(c).op !== binaryen.LtUInt32 || kind(info(c).right) !== binaryen.LocalGetId) continue;
    const l = info(c).left;
    if (kind(l) !== binaryen.LocalSetId || !info(l).isTee || info(l).index !== 1) continue;
    const step = info(l).value;
    if (kind(step) === binaryen.BinaryId && info(step).op === binaryen.AddInt32 && isGet(info(step).left, 1) && isConst(info(step).right, 1)) end = info(info(c).right).index;
  }
  if (end < 0) return null;
  for (const block of expressions(body)) {
    if (kind(block) !== binaryen.BlockId) continue;
    const children = info(block).children as number[];
    if (children.length < 3 || kind(children[0]) !== binaryen.BreakId || !info(children[0]).condition) continue;
    const test = info(children[0]).condition;
    if (kind(test) !== binaryen.BinaryId || info(test).op !== binaryen.LtUInt32 || kind(info(test).left) !== binaryen.LocalGetId || !isConst(info(test).right, 32)) continue;
    const printf = children[2];
    if (kind(children[1]) !== binaryen.StoreId || kind(printf) !== binaryen.DropId || kind(info(printf).value) !== binaryen.CallId) continue;
    if (!isGet(info(info(printf).value).operands[0], 0)) continue;
    return { block, printfAt: 2, end };
  }
  return null;
}

/** Compares c with both quote characters the way the function does. */
function comparesQuotes(body: number): boolean {
  const consts = expressions(body).filter((e) => kind(e) === binaryen.BinaryId && (isConst(info(e).right, 92) || isConst(info(e).right, 34)));
  return consts.length >= 2;
}

export function printJsonRunsAtOnce(m: Module): JsonStringsReport {
  const i32x3 = binaryen.createType([binaryen.i32, binaryen.i32, binaryen.i32]);
  const found: { name: string; path: PlainPath }[] = [];
  for (const name of definedFunctionNames(m)) {
    const f = binaryen.getFunctionInfo(m.getFunction(name));
    if (f.params !== i32x3 || f.results !== binaryen.none || !comparesQuotes(f.body)) continue;
    const path = plainPath(f.body);
    if (path) found.push({ name, path });
  }
  if (found.length !== 1) throw new Error(`json-strings: expected one mp_str_print_json, found ${found.length}`);
  const { name, path } = found[0];
  const table = binaryen.getTableInfo(m.getTableByIndex(0)).name;

  const fn = m.getFunction(name);
  const next = FunctionNode.addVar(fn, binaryen.i32);
  const c = FunctionNode.addVar(fn, binaryen.i32);
  const get = (k: number) => m.local.get(k, binaryen.i32);
  const scan = 'pyfence_json_run';
  const done = 'pyfence_json_run_done';
  const needsEscape = m.i32.or(
    m.i32.lt_u(get(c), m.i32.const(32)),
    m.i32.or(m.i32.eq(get(c), m.i32.const(34)), m.i32.eq(get(c), m.i32.const(92))),
  );
  const printRun = m.block(null, [
    m.local.set(next, m.i32.add(get(1), m.i32.const(1))),
    m.block(done, [
      m.loop(scan, m.block(null, [
        m.br(done, m.i32.ge_u(get(next), get(path.end))),
        m.local.set(c, m.i32.load8_u(0, 1, get(next))),
        m.br(done, needsEscape),
        m.local.set(next, m.i32.add(get(next), m.i32.const(1))),
        m.br(scan),
      ])),
    ]),
    // print->print_strn(print->data, str, run length), as mp_print_str calls it.
    m.call_indirect(table, m.i32.load(4, 4, get(0)), [m.i32.load(0, 4, get(0)), get(1), m.i32.sub(get(next), get(1))], i32x3, binaryen.none),
    // The loop's own step moves str past the run's last character.
    m.local.set(1, m.i32.sub(get(next), m.i32.const(1))),
  ]);
  BlockNode.setChildAt(path.block, path.printfAt, printRun);
  return { printer: name };
}
