// The one input the CPython module is built from: the pinned `pyodide` package's wasm and stdlib.
// Any other bytes are refused.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { sha256 } from '../pinned.js';

export const PYODIDE_PACKAGE = 'pyodide';
export const PYODIDE_VERSION = '314.0.7';
export const PINNED_FILES = {
  'pyodide.asm.wasm': 'cc36e3cab04fdfc9a63ff13eb52eae2b911bf46c025cc7b281f394bd3de1d5e6',
  'python_stdlib.zip': 'fa1957e5777068fc4f7437f96d860ae2fbe9c19732ba06c84e004ec16dd7dd7a',
} as const;

export type PinnedFile = keyof typeof PINNED_FILES;

/** Reads one file of the pinned package and checks the package version and the file's hash. */
export function readPinned(file: PinnedFile): Uint8Array {
  const require = createRequire(import.meta.url);
  const pkg = require(`${PYODIDE_PACKAGE}/package.json`) as { version: string };
  if (pkg.version !== PYODIDE_VERSION) {
    throw new Error(`${PYODIDE_PACKAGE} is ${pkg.version}, expected exactly ${PYODIDE_VERSION}`);
  }
  const path = require.resolve(`${PYODIDE_PACKAGE}/${file}`);
  const bytes = readFileSync(path);
  const digest = sha256(bytes);
  if (digest !== PINNED_FILES[file]) throw new Error(`${path} has sha256 ${digest}, expected ${PINNED_FILES[file]}`);
  return new Uint8Array(bytes);
}
