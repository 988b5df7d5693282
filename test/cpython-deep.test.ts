// Deep structures under the CPython engine: freeing them, and repr, ==, hash, str, json, pickle,
// isinstance of them, give python3's outcome (freed, hashed, or a RecursionError the program catches)
// instead of exhausting V8's native stack and replacing the interpreter, in a worker and inline alike
// (src/guests/cpython/stack-limits.ts, build/cpython/shadow-frames.ts, build/cpython/tuple-hash.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';

const python3 = spawnSync('python3', ['--version'], { encoding: 'utf8' }).status === 0;

const DEEP_LIST = 'c = []\nfor _ in range(100000):\n    c = [c]\n';
const caught = (expr: string) => `try:\n    ${expr}\n    print("ok")\nexcept RecursionError:\n    print("RecursionError")\n`;

/** [name, program, python3's output]. */
const CASES: [string, string, string][] = [
  ['del of a list 100,000 deep', `${DEEP_LIST}del c\nprint("freed")`, 'freed'],
  // Deeper than V8's stack could follow even in a worker without the trashcan (it overflowed at
  // 400,000), and freed for real, not only deferred: the object at the bottom is finalised first.
  ['del of a list 1,000,000 deep', 'class P:\n    def __del__(s): print("bottom")\nc = [P()]\nfor _ in range(1000000):\n    c = [c]\ndel c\nprint("freed")', 'bottom\nfreed'],
  ['del of a dict 100,000 deep', 'c = {}\nfor _ in range(100000):\n    c = {"k": c}\ndel c\nprint("freed")', 'freed'],
  ['del of a tuple 100,000 deep', 'c = ()\nfor _ in range(100000):\n    c = (c,)\ndel c\nprint("freed")', 'freed'],
  ['repr', DEEP_LIST + caught('repr(c)'), 'RecursionError'],
  ['str of a dict', 'c = {}\nfor _ in range(100000):\n    c = {"k": c}\n' + caught('str(c)'), 'RecursionError'],
  ['==', `def deep():\n    ${DEEP_LIST.replace(/\n/g, '\n    ')}return c\na, b = deep(), deep()\n` + caught('a == b'), 'RecursionError'],
  ['hash of a tuple', 'c = ()\nfor _ in range(100000):\n    c = (c,)\n' + caught('hash(c)'), 'ok'],
  ['hash of a tuple holding a list', 'c = ([],)\nfor _ in range(100000):\n    c = (c,)\ntry:\n    hash(c)\nexcept TypeError as e:\n    print(e)', "unhashable type: 'list'"],
  ['json.dumps', `import json\n${DEEP_LIST}` + caught('json.dumps(c)'), 'RecursionError'],
  ['json.loads', 'import json\n' + caught('json.loads("[" * 100000 + "]" * 100000)'), 'RecursionError'],
  // A dict level takes more of V8's stack than a list level, in json's encoder and scanner alike.
  ['json.dumps of a dict', 'import json\nc = {}\nfor _ in range(100000):\n    c = {"k": c}\n' + caught('json.dumps(c)'), 'RecursionError'],
  ['json.loads of an object', 'import json\n' + caught('json.loads(\'{"a":\' * 100000 + "1" + "}" * 100000)'), 'RecursionError'],
  ['isinstance of nested tuples', 'c = int\nfor _ in range(100000):\n    c = (c,)\n' + caught('isinstance(1, c)'), 'RecursionError'],
  ['pickle.dumps', `import pickle\n${DEEP_LIST}` + caught('pickle.dumps(c)'), 'RecursionError'],
  ['copy.deepcopy', `import copy\n${DEEP_LIST}` + caught('copy.deepcopy(c)'), 'RecursionError'],
];

/** Recursion through Python code called from C: python3 goes 900 deep under its default limit. */
const PY_REPR_900 = 'class N:\n    def __init__(s, c): s.c = c\n    def __repr__(s): return "N(" + repr(s.c) + ")"\nc = None\nfor _ in range(900): c = N(c)\nprint(len(repr(c)))';

/** Depths python3 handles with room to spare, which the inline stack must handle too. */
const MODERATE = 'import json\nc = []\nfor _ in range(1500):\n    c = [c]\nprint(len(repr(c)), len(json.dumps(c)), json.loads(json.dumps(c)) == c)';

/** The compiler's deepest nesting python3 accepts (its parser stops at 200): C recursion with large frames. */
const COMPILE_200 = 'src = "x = " + "f(" * 199 + "1" + ")" * 199\ncompile(src, "s", "exec")\nprint(len(src))';

/**
 * Past a nesting depth the build hashes tuples bottom-up (build/cpython/tuple-hash.ts): the hashes of
 * deep tuples, with tuples at every item position and items of other types, are tuple's hash as
 * CPython 3.14 defines it on wasm32 (xxHash's 32-bit round over the items' hashes), written out here.
 */
const DEEP_HASHES = `M = 2 ** 32
def tuple_hash(hashes):
    acc = 374761393
    for h in hashes:
        acc = (acc + (h % M) * 2246822519) % M
        acc = ((acc << 13) | (acc >> 19)) % M
        acc = acc * 2654435761 % M
    acc = (acc + (len(hashes) ^ 374761393 ^ 3527539)) % M
    acc = 1546275796 if acc == M - 1 else acc
    return acc - M if acc >= 2 ** 31 else acc
c, expected = (), tuple_hash([])
for k in range(3000):
    c, expected = (k, c, ("s",) * (k % 3), "s"), tuple_hash([k, expected, tuple_hash([hash("s")] * (k % 3)), hash("s")])
print(hash(c) == expected, hash(c) == expected, hash((1, (2, 3))) == tuple_hash([1, tuple_hash([2, 3])]))`;

/** Shallow tuples are hashed by CPython's own recursion: items' __hash__ run in python3's order. */
const HASH_ORDER = 'class H:\n    def __init__(s, n): s.n = n\n    def __hash__(s):\n        print(s.n, end=" ")\n        return s.n\nhash((H(1), (H(2), (H(3),)), H(4)))\nprint()';

/** Room for a million nested lists (~80 MB, as in python3). */
const BIG_ENOUGH = 256 * 2 ** 20;
/** Freeing a list 1,000,000 deep takes 0.7-3 s; under CI load it passed the default 10 s once. */
const ON_A_LOADED_MACHINE = 60_000;

async function expectOutcome(sb: Sandbox, code: string, expected: string): Promise<void> {
  const r = await sb.run(code);
  assert.equal(r.sandboxReplaced, false, `the interpreter was replaced: ${JSON.stringify(r.error)}`);
  assert.equal(r.stdout.trim(), expected, JSON.stringify(r.error));
}

describe("CPython engine: deep structures, isolation 'worker'", () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ engine: 'cpython', isolation: 'worker', limits: { memoryBytes: BIG_ENOUGH, timeoutMs: ON_A_LOADED_MACHINE } });
  });
  after(() => sb.dispose());

  for (const [name, code, expected] of CASES) {
    it(`${name}: ${expected}`, async () => {
      await expectOutcome(sb, code, expected);
      if (python3 && !name.startsWith('hash')) {
        // python3 before 3.12 counted C recursion against the recursion limit: hash of a deep tuple differs.
        const native = spawnSync('python3', ['-c', code], { encoding: 'utf8', timeout: 60_000 });
        assert.equal(native.stdout.trim(), expected, 'python3 printed something else');
      }
    });
  }

  it("recursion through Python's __repr__ 900 deep, and moderate depths", async () => {
    await expectOutcome(sb, PY_REPR_900, '2704');
    await expectOutcome(sb, MODERATE, '3002 3002 True');
    await expectOutcome(sb, COMPILE_200, '602');
    await expectOutcome(sb, DEEP_HASHES, 'True True True');
    await expectOutcome(sb, HASH_ORDER, '1 2 3 4');
    // The session survived all of it.
    assert.equal((await sb.run('print(sum(range(10)))')).stdout, '45\n');
  });
});

describe('CPython engine: deep structures inline (the caller\'s native stack)', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ engine: 'cpython', limits: { memoryBytes: BIG_ENOUGH, timeoutMs: ON_A_LOADED_MACHINE } });
  });
  after(() => sb.dispose());

  // Inline the limits fit the caller's ~1 MB stack (stack-limits.ts): python3's depths for ordinary
  // code, python3's outcome for every case.
  it('depths python3 handles easily work', async () => {
    await expectOutcome(sb, `x = 1\n${MODERATE}`, '3002 3002 True');
    await expectOutcome(sb, COMPILE_200, '602');
    await expectOutcome(sb, DEEP_HASHES, 'True True True');
    await expectOutcome(sb, HASH_ORDER, '1 2 3 4');
    assert.equal((await sb.run('print(x)')).stdout, '1\n');
  });

  it("recursion through Python's __repr__ too deep for the caller's stack: a catchable RecursionError", async () => {
    // python3 prints 2704 (its 8 MiB stack); a level takes ~4.3 KiB of V8's stack once V8 has optimised
    // the eval loop: 900 do not fit in 1 MB (148 do).
    await expectOutcome(sb, `try:\n    exec(${JSON.stringify(PY_REPR_900)})\nexcept RecursionError:\n    print("RecursionError")`, 'RecursionError');
  });

  for (const [name, code, expected] of CASES) {
    it(`${name}: ${expected.replace('\n', ' ')}`, async () => {
      await sb.run('kept = 1');
      await expectOutcome(sb, code, expected);
      assert.equal((await sb.run('print(kept)')).stdout, '1\n');
    });
  }
});
