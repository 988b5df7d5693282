// A plugin host: user-written plugins (Python) run in a sandbox that sees one read-only folder,
// calls two host functions the host chose to offer, and stops at a CPU, time and memory limit.
//   node examples/plugin-host/host.mjs
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { Sandbox } from 'pyfence';

const here = fileURLToPath(new URL('.', import.meta.url));
const prices = { apple: 0.5, pear: 0.75 };

const sandbox = await Sandbox.create({
  mounts: [{ host: `${here}plugins`, guest: '/plugins', mode: 'ro' }],
  modules: {
    shop: {
      price: (item) => prices[item] ?? null, // data in, data out: no host objects cross
      log: (message) => void console.error(`[plugin] ${message}`),
    },
  },
  limits: { fuel: 200_000_000, timeoutMs: 2000, memoryBytes: 16 * 2 ** 20 },
});
const plugin = readFileSync(`${here}plugins/invoice.py`, 'utf8');
const result = await sandbox.run(plugin, { filename: 'invoice.py', inputs: { order: { apple: 4, pear: 2 } } });
if (result.ok) console.log(`total: ${result.value}`);
else console.error(result.error.kind, result.error.message);

// A runaway plugin is stopped by the fuel limit, and the host goes on.
const runaway = await sandbox.run('while True:\n    pass');
console.log(`runaway plugin: ${runaway.error?.kind}`);
sandbox.dispose();
