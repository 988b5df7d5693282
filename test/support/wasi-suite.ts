// A runner for the official WASI test suite (../shared/wasi-testsuite), following its
// specification.md: every tests/*/testsuite/wasm32-wasip1/X.wasm is a test; X.json gives args, env,
// root (copied fresh, preopened as "/"), exit_code and stdout. Socket/http specs are skipped.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { WasmModule } from '../../src/api/wasm-module.js';

export const SUITE_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'wasi-testsuite');

export interface SuiteCase {
  name: string;
  wasm: string;
  args: string[];
  env: Record<string, string>;
  root: string | null;
  exitCode: number;
  stdout: string | null;
  stderr: string | null;
}

export function suiteCases(dir = SUITE_DIR): SuiteCase[] {
  const out: SuiteCase[] = [];
  const tests = join(dir, 'tests');
  for (const lang of fs.readdirSync(tests).sort()) {
    const d = join(tests, lang, 'testsuite', 'wasm32-wasip1');
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d).sort()) {
      if (!f.endsWith('.wasm')) continue;
      const specFile = join(d, f.replace(/\.wasm$/, '.json'));
      const spec = fs.existsSync(specFile) ? JSON.parse(fs.readFileSync(specFile, 'utf8')) : {};
      if (spec.operations || spec.proposals) continue; // sockets/http: outside preview1
      out.push({
        name: `${lang}/${f.replace(/\.wasm$/, '')}`,
        wasm: join(d, f),
        args: spec.args ?? [],
        env: spec.env ?? {},
        root: spec.root ? join(d, spec.root) : null,
        exitCode: spec.exit_code ?? 0,
        stdout: spec.stdout ?? null,
        stderr: spec.stderr ?? null,
      });
    }
  }
  return out;
}

/** Runs one case; returns null when it passed, else what differed. */
export async function runCase(c: SuiteCase): Promise<string | null> {
  const module = await WasmModule.fromFile(c.wasm);
  let root: string | null = null;
  try {
    if (c.root) {
      root = fs.mkdtempSync(join(tmpdir(), 'pyfence-wasi-suite-'));
      fs.cpSync(c.root, root, { recursive: true, verbatimSymlinks: true });
      for (const f of walk(root)) if (f.endsWith('.cleanup')) fs.rmSync(f, { recursive: true, force: true });
    }
    const result = await module.run({
      args: [basename(c.wasm), ...c.args],
      env: c.env,
      mounts: root ? [{ host: root, guest: '/', mode: 'rw' }] : [],
      limits: { timeoutMs: 60_000 },
    });
    if (!result.ok) return `stopped: ${result.error!.kind}: ${result.error!.message}\nstderr: ${result.stderr}`;
    if (result.exitCode !== c.exitCode) return `exit code ${result.exitCode}, expected ${c.exitCode}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
    if (c.stdout !== null && result.stdout !== c.stdout) return `stdout ${JSON.stringify(result.stdout)}, expected ${JSON.stringify(c.stdout)}`;
    return null;
  } finally {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  }
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...walk(p));
  }
  return out;
}

