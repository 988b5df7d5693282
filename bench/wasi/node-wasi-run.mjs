// node:wasi runs of a WASI command, in a process of their own (node:wasi aborted the whole process
// intermittently after a few runs in one process here). The guest's stdout is this process's (the
// caller discards it); the measurements go to stderr as JSON: {cpuMs: [...], wallMs: [...]}, one
// entry per fresh instance. Usage: node node-wasi-run.mjs MODULE.wasm GUEST_DIR|- HOST_DIR REPEAT ARGS...
import * as fs from 'node:fs';
import { WASI } from 'node:wasi';

const [file, guest, host, repeat, ...args] = process.argv.slice(2);
const module = new WebAssembly.Module(fs.readFileSync(file));
const out = { cpuMs: [], wallMs: [] };
for (let i = 0; i < Number(repeat); i++) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const wasi = new WASI({ version: 'preview1', args, preopens: guest === '-' ? {} : { [guest]: host }, returnOnExit: true });
  const exitCode = wasi.start(new WebAssembly.Instance(module, wasi.getImportObject()));
  out.wallMs.push(performance.now() - started);
  const used = process.cpuUsage(cpu);
  out.cpuMs.push((used.user + used.system) / 1000);
  if (exitCode !== 0) throw new Error(`exit code ${exitCode}`);
}
process.stderr.write(JSON.stringify(out) + '\n');
