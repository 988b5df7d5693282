// Big ints' fast paths. Written as text by the host (build/passes/mpz-format.ts, src/guests/micropython/
// mpz-format.ts): the same bytes as the interpreter's loop in every form, paid in fuel, bounds-checked
// against a forged mpz_t, and left to the interpreter's metered loop past the size a host call may take.
// Divided by a one-digit divisor with short division (build/passes/mpz-short-division.ts): the results
// of the long division it stands in front of, every sign.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import binaryen from 'binaryen';
import { formatBigIntsOnHost } from '../build/passes/mpz-format.js';
import { divideBySmallIntsShort } from '../build/passes/mpz-short-division.js';
import { FuelMeter } from '../src/engine/fuel.js';
import { HOST_WORK_FUEL } from '../src/engine/host-work.js';
import { GuestMemory } from '../src/engine/memory-view.js';
import { formatMpz, MPZ_HOST_MAX_DIGITS, MPZ_HOST_MIN_DIGITS } from '../src/guests/micropython/mpz-format.js';
import { ROOT } from './helpers.js';
import { runOnce } from './run-once.js';

const program = (name: string) => readFileSync(join(ROOT, 'test/programs', name), 'utf8');
const FORMAT = program('mpz-format.py');
const DIVISION = program('mpz-division.py');
/** sha256 of python3's output of each program (CPython 3.11, int_max_str_digits off). */
const PYTHON3_SHA256 = {
  format: '22721623b3421bf0b6626382033dbdda82bbe73b15470dc963aee2d3db22c2e2',
  division: 'e3ccf7fb549ecab37f9d90402c4e904795b3cb6f243cb164257c9593003ff367',
};

/** The program's output is python3's: by the stored digest, and by python3 itself when it is on PATH. */
function assertPython3Output(stdout: string, code: string, sha256: string): void {
  assert.equal(createHash('sha256').update(stdout).digest('hex'), sha256);
  const python3 = spawnSync('python3', ['-c', `import sys\nif hasattr(sys, "set_int_max_str_digits"): sys.set_int_max_str_digits(0)\nexec(sys.stdin.read())`], {
    input: code,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (python3.status === 0) assert.equal(stdout, python3.stdout);
}

const run = (code: string, limits: Record<string, number> = {}) => runOnce(code, { limits: { outputBytes: 8 << 20, ...limits } });

/** A memory holding an mpz_t at 64 (sign, length, digit pointer) and its digits at 128. */
function forged(digits: number[], negative: boolean): { memory: GuestMemory; raw: WebAssembly.Memory } {
  const raw = new WebAssembly.Memory({ initial: 1 });
  const view = new DataView(raw.buffer);
  view.setUint32(64, (negative ? 1 : 0) | (digits.length << 2), true);
  view.setUint32(68, digits.length, true);
  view.setUint32(72, 128, true);
  digits.forEach((d, i) => view.setUint16(128 + 2 * i, d, true));
  return { memory: new GuestMemory(raw), raw };
}

function meterCounting(): { meter: FuelMeter; checkpoints: () => number } {
  let checkpoints = 0;
  const meter = new FuelMeter(null);
  meter.begin(Infinity, { checkpoint: () => void checkpoints++, exhausted: () => {} });
  return { meter, checkpoints: () => checkpoints };
}

describe('big ints as text', { timeout: 120_000 }, () => {
  it('writes every form as python3 does, on both sides of the host sizes, and parses back', async () => {
    const r = await run(FORMAT);
    r.throwIfError();
    assert.match(r.stdout, /round trips failed: 0\n$/);
    assertPython3Output(r.stdout, FORMAT, PYTHON3_SHA256.format);
  });

  it('charges the conversion in fuel, the same in every run', async () => {
    const setup = 'x = 3 ** 40000\n'; // 63,398 bits: 3,963 16-bit digits
    const [bare, once, again] = [await run(setup), await run(setup + 's = str(x)'), await run(setup + 's = str(x)')];
    assert.equal(once.usage.fuel, again.usage.fuel);
    const least = HOST_WORK_FUEL.bigIntFormat + HOST_WORK_FUEL.bigIntFormatDigit * 3963;
    assert.ok(once.usage.fuel - bare.usage.fuel >= least, `${once.usage.fuel} - ${bare.usage.fuel} < ${least}`);
  });

  it('leaves numbers past the host size to the metered loop, which meets the deadline', async () => {
    // 187,500 digits: the interpreter's loop would run for hours; a host call could not be stopped.
    const r = await run('s = str(1 << 3_000_000)', { timeoutMs: 300 });
    assert.equal(r.error?.kind, 'timeout');
  });

  it('writes a forged number as the interpreter would, charging before it works', () => {
    const digits = Array.from({ length: MPZ_HOST_MIN_DIGITS + 3 }, (_, i) => (i * 40503 + 7) & 0xffff);
    const { memory, raw } = forged(digits, true);
    const bytes = new Uint8Array(raw.buffer);
    bytes.set(new TextEncoder().encode('0x\0'), 32);
    const { meter, checkpoints } = meterCounting();
    const n = formatMpz(memory, meter, 64, 16, 32, 'A'.charCodeAt(0), '_'.charCodeAt(0), 1024);
    const value = digits.reduceRight((v, d) => (v << 16n) | BigInt(d), 0n);
    const hex = value.toString(16).toUpperCase().replace(/\B(?=([0-9A-F]{4})+$)/g, '_');
    assert.equal(new TextDecoder().decode(bytes.subarray(1024, 1024 + n)), `-0x${hex}`);
    assert.equal(bytes[1024 + n], 0);
    assert.equal(checkpoints(), 1);
    assert.equal(meter.used(), HOST_WORK_FUEL.bigIntFormat + HOST_WORK_FUEL.bigIntFormatDigit * digits.length);
  });

  it('leaves small and oversized numbers to the interpreter, untouched and free', () => {
    for (const length of [MPZ_HOST_MIN_DIGITS - 1, MPZ_HOST_MAX_DIGITS + 1]) {
      const { memory, raw } = forged(Array(Math.min(length, 8)).fill(1), false);
      new DataView(raw.buffer).setUint32(68, length, true);
      const { meter } = meterCounting();
      assert.equal(formatMpz(memory, meter, 64, 10, 0, 97, 0, 1024), -1);
      assert.equal(meter.used(), 0);
      assert.equal(new Uint8Array(raw.buffer)[1024], 0);
    }
  });

  it('traps on a forged mpz_t that points outside memory, writing nothing', () => {
    const cases: [string, (view: DataView) => void, number][] = [
      ['the mpz_t itself', () => {}, 65536 - 8],
      ['its digits', (view) => view.setUint32(72, 65536 - 4, true), 64],
      ['its output', () => {}, 64],
    ];
    for (const [what, forge, mpz] of cases) {
      const { memory, raw } = forged(Array(MPZ_HOST_MIN_DIGITS).fill(0xffff), false);
      forge(new DataView(raw.buffer));
      const before = new Uint8Array(raw.buffer).slice();
      const str = what === 'its output' ? 65536 - 10 : 1024;
      assert.throws(() => formatMpz(memory, meterCounting().meter, mpz, 10, 0, 97, 0, str), WebAssembly.RuntimeError, what);
      assert.deepEqual(new Uint8Array(raw.buffer), before, what);
    }
  });

  it('divides by one-digit and longer divisors as python3 does, every sign', async () => {
    const r = await run(DIVISION);
    r.throwIfError();
    assert.match(r.stdout, /division checks failed: 0\n$/);
    assertPython3Output(r.stdout, DIVISION, PYTHON3_SHA256.division);
  });

  it('takes short division for a one-digit divisor: much less fuel than the long division', async () => {
    const divideBy = (d: number) => run(`x = 7 ** 5000\nfor i in range(200):\n    y = x // ${d}`);
    const [short, long] = [await divideBy(65521), await divideBy(65537)];
    // Measured: 2.1e7 and 5.7e7 units; the long division's own cost for 65521 is about the same as 65537's.
    assert.ok(short.usage.fuel < 0.6 * long.usage.fuel, `short ${short.usage.fuel}, long ${long.usage.fuel}`);
  });

  it('stops the build when a function it rewrites is not found', () => {
    const m = new binaryen.Module();
    m.addFunction('f', binaryen.createType([binaryen.i32]), binaryen.i32, [], m.local.get(0, binaryen.i32));
    assert.throws(() => formatBigIntsOnHost(m), /mpz-format: expected one mpz_as_str_inpl/);
    assert.throws(() => divideBySmallIntsShort(m), /mpz-short-division: expected one mpz_divmod_inpl/);
    m.dispose();
  });
});
