// Fresh-sandbox latency: create a brand-new interpreter, run print(1+1), throw it away.

import { StockSession, type StockOptions } from './stock.js';
import { variantLabel, type SandboxClass, type Variant } from './pyfence.js';
import type { LatencyResult } from './report.js';
import { memDelta, memSnapshot } from './mem.js';
import { sample } from './stats.js';

const CODE = 'print(1+1)';
const EXPECTED = '2\n';

function check(engine: string, stdout: string): void {
  if (stdout !== EXPECTED) throw new Error(`${engine}: fresh-sandbox run printed ${JSON.stringify(stdout)}, expected "2\\n"`);
}

/** stock: `loadMicroPython({stdout})` + `runPython('print(1+1)')` per iteration. */
export async function stockLatency(iterations: number, warmup: number, opts: StockOptions = {}): Promise<LatencyResult> {
  const before = memSnapshot();
  const s = await sample(
    async () => {
      const r = (await StockSession.load(opts)).run(CODE);
      check('stock', r.stdout);
    },
    iterations,
    { warmup },
  );
  const mem = memDelta(before, memSnapshot());
  return { engine: 'stock', iterations, median: s.median, p10: s.p10, p90: s.p90, memDelta: mem };
}

/** pyfence: `Sandbox.create()` (or the variant's constructor) + `run('print(1+1)')` + `dispose()`. */
export async function pyfenceLatency(
  Sandbox: SandboxClass,
  variant: Variant,
  iterations: number,
  warmup: number,
): Promise<LatencyResult> {
  const engine = variantLabel(variant.name);
  const before = memSnapshot();
  const s = await sample(
    async () => {
      const sb = await variant.create(Sandbox);
      const r = await sb.run(CODE);
      await sb.dispose();
      check(engine, r.stdout);
    },
    iterations,
    { warmup },
  );
  const mem = memDelta(before, memSnapshot());
  return { engine, iterations, median: s.median, p10: s.p10, p90: s.p90, memDelta: mem };
}
