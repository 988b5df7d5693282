// Initialises CPython once at build time and writes its state (wasm/cpython-state.bin), so that no
// process pays the initialisation. Deterministic: a fixed clock and a seeded random source (every
// sandbox re-seeds `random` and sees its own clock after the restore).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CPYTHON_FILES } from '../../src/guests/cpython/abi.js';
import { seededRandomU32 } from '../../src/core/determinism.js';
import { serializeState, loadState } from '../../src/guests/cpython/state-file.js';
import { arraySource } from '../../src/guests/cpython/byte-source.js';
import { initHooks, initialiseState, stateOrigin } from '../../src/guests/cpython/template.js';
import { sha256 } from '../pinned.js';

const BAKE_TIME_MS = Date.UTC(2025, 0, 1);

export function bakeState(outDir: string): void {
  const manifestPath = join(outDir, CPYTHON_FILES.manifest);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const origin = stateOrigin(manifest.module.sha256, manifest.stdlib.sha256);
  const statePath = join(outDir, CPYTHON_FILES.state);
  const existing = existsSync(statePath) && !process.argv.includes('--force') ? new Uint8Array(readFileSync(statePath)) : null;
  const upToDate = existing !== null && loadState(arraySource(existing), origin) !== null;
  const t0 = performance.now();
  let bytes: Uint8Array;
  if (upToDate) {
    bytes = existing;
  } else {
    const module = new Uint8Array(readFileSync(join(outDir, CPYTHON_FILES.module)));
    const stdlib = new Uint8Array(readFileSync(join(outDir, CPYTHON_FILES.stdlib)));
    const clock = { ticksMs: () => 0, timeMs: () => BAKE_TIME_MS };
    const state = initialiseState(module, stdlib, initHooks(clock, seededRandomU32(0)));
    bytes = serializeState(state, origin);
    writeFileSync(statePath, bytes);
  }
  // Recorded even when the state was kept: a rebuilt module writes a manifest without it.
  manifest.state = { sha256: sha256(bytes), bytes: bytes.length, origin };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  if (upToDate) {
    console.log(`pyfence: wasm/${CPYTHON_FILES.state} is up to date`);
    return;
  }
  console.log(`pyfence: baked wasm/${CPYTHON_FILES.state} (${bytes.length} bytes) in ${Math.round(performance.now() - t0)} ms`);
}
