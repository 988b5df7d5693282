// The counted-loop recogniser decides which loops go without a per-iteration fuel check, so it must
// refuse every loop whose trip count is not bounded by its entry values and memory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { matchCountedLoop } from '../build/counted-loops.js';
import { children } from '../build/walk.js';

function firstLoop(body: string): ReturnType<typeof matchCountedLoop> {
  const m = binaryen.parseText(`(module (memory 1)
    (func $f (param $p i32) (param $end i32) (result i32) (local $h i32) (local $x i32)
      ${body}
      (local.get $h)))`);
  const stack = [binaryen.getFunctionInfo(m.getFunction('f')).body];
  while (stack.length) {
    const e = stack.pop()!;
    if (binaryen.getExpressionId(e) === binaryen.LoopId) {
      const r = matchCountedLoop(e);
      m.dispose();
      return r;
    }
    stack.push(...children(e));
  }
  throw new Error('no loop');
}

const hashLoop = (extra = '', cond = '(i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $end))') => `
  (loop $l
    (local.set $h (i32.xor (i32.mul (local.get $h) (i32.const 33)) (i32.load8_u (local.get $p))))
    ${extra}
    (br_if $l ${cond}))`;

describe('counted loops', () => {
  it('recognises an ascending byte loop and a descending one', () => {
    assert.deepEqual(firstLoop(hashLoop()), { induction: 0, bound: 1, step: 1, ascending: true, wrapping: false });
    const down = `(loop $l
      (local.set $h (i32.add (local.get $h) (i32.load8_s (local.tee $p (i32.add (local.get $p) (i32.const -1))))))
      (br_if $l (i32.gt_u (local.get $p) (local.get $end))))`;
    assert.deepEqual(firstLoop(down), { induction: 0, bound: 1, step: 1, ascending: false, wrapping: false });
  });

  it('recognises an exit test at the top, whatever branches back later', () => {
    const top = `(block $out (loop $l
      (br_if $out (i32.ge_u (local.tee $p (i32.add (local.get $p) (i32.const 4))) (local.get $end)))
      (br_if $l (i32.eqz (i32.load (local.get $p))))
      (local.set $h (i32.add (local.get $h) (i32.const 1)))
      (br $l)))`;
    assert.deepEqual(firstLoop(top), { induction: 0, bound: 1, step: 4, ascending: true, wrapping: false });
  });

  it('accepts != only with a step of 1, and then charges the wrapped distance', () => {
    const ne = (k: number) => hashLoop('', `(i32.ne (local.tee $p (i32.add (local.get $p) (i32.const ${k}))) (local.get $end))`);
    assert.deepEqual(firstLoop(ne(1)), { induction: 0, bound: 1, step: 1, ascending: true, wrapping: true });
    assert.equal(firstLoop(ne(2)), null);
  });

  it('refuses loops whose trip count is not fixed on entry', () => {
    const refused: Record<string, string> = {
      'a second back edge': hashLoop('(br_if $l (local.get $h))'),
      'an exit test at the top whose X is not the increment': `(block $out (loop $l
        (br_if $out (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $h (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l)))`,
      'the memory access only under a branch': `(loop $l
        (if (local.get $h) (then (local.set $h (i32.load8_u (local.get $p)))))
        (br_if $l (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $end))))`,
      'a search that can stop early': `(block $found ${hashLoop('(br_if $found (i32.eqz (local.get $h)))')})`,
      'a return inside': hashLoop('(if (i32.eqz (local.get $h)) (then (return (i32.const 0))))'),
      'the memory access after a branch back': `(block $out (loop $l
        (br_if $out (i32.ge_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $end)))
        (br_if $l (local.get $h))
        (local.set $h (i32.load8_u (local.get $p)))
        (br $l)))`,
      'a signed comparison': hashLoop('', '(i32.lt_s (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $end))'),
      'the bound written in the loop': hashLoop('(local.set $end (i32.add (local.get $end) (i32.const 1)))'),
      'the induction written twice': hashLoop('(local.set $p (i32.sub (local.get $p) (i32.const 1)))'),
      'a step against the comparison': hashLoop('', '(i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const -1))) (local.get $end))'),
      'a huge step': hashLoop('', '(i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 4096))) (local.get $end))'),
      'an increment under a branch': `(loop $l
        (local.set $h (i32.load8_u (local.get $p)))
        (if (local.get $h) (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))
        (br_if $l (i32.lt_u (local.get $p) (local.get $end))))`,
      'no memory access through the induction variable': `(loop $l
        (local.set $h (i32.add (local.get $h) (i32.load8_u (local.get $x))))
        (br_if $l (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $end))))`,
    };
    for (const [why, body] of Object.entries(refused)) assert.equal(firstLoop(body), null, why);
  });
});
