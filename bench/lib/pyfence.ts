// Pluggable access to the pyfence engine under test (../../src/index.ts).
// The module is imported dynamically so the harness still works (baselines only) while
// src/index.ts does not exist yet.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface PyfenceRunResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  error?: unknown;
  usage?: unknown;
}

export interface SandboxLike {
  run(code: string): Promise<PyfenceRunResult> | PyfenceRunResult;
  dispose(): void | Promise<void>;
}

export interface SandboxClass {
  create(options?: Record<string, unknown>): Promise<SandboxLike>;
  /** Internal constructor on the unmetered build (no fuel / deadline enforcement). */
  createUnmetered?(options?: Record<string, unknown>): Promise<SandboxLike> | SandboxLike;
}

/** A named way of creating sandboxes; each variant becomes its own column. */
export interface Variant {
  name: string;
  /** Reason this variant cannot run with the loaded engine, or undefined when it can. */
  unavailable?(Sandbox: SandboxClass): string | undefined;
  create(Sandbox: SandboxClass): Promise<SandboxLike> | SandboxLike;
  /** Slow to create (e.g. a thread per sandbox): use the stock iteration count for latency. */
  slowCreate?: boolean;
}

function unmeteredFactory(S: SandboxClass): (() => Promise<SandboxLike> | SandboxLike) | undefined {
  if (S.createUnmetered) return () => S.createUnmetered!();
  return undefined;
}

// Add further variants here (e.g. different limits); select them with `--variants a,b`.
export const KNOWN_VARIANTS: Record<string, Variant> = {
  /** The public API: `Sandbox.create()` — metered build, default limits, inline. */
  default: { name: 'default', create: (S) => S.create() },
  /** Unmetered build (internal `createUnmeteredSandbox()`): shows the cost of fuel metering. */
  unmetered: {
    name: 'unmetered',
    unavailable: (S) => (unmeteredFactory(S) ? undefined : 'createUnmeteredSandbox() does not exist'),
    create: (S) => unmeteredFactory(S)!(),
  },
  /** `Sandbox.create({ isolation: 'worker' })`: interpreter in a worker thread. */
  worker: { name: 'worker', slowCreate: true, create: (S) => S.create({ isolation: 'worker' }) },
};

export function variantLabel(v: string): string {
  return v === 'default' ? 'pyfence' : `pyfence[${v}]`;
}

export function parseVariants(list: string): Variant[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((name) => {
      const v = KNOWN_VARIANTS[name];
      if (!v) throw new Error(`unknown variant "${name}" (known: ${Object.keys(KNOWN_VARIANTS).join(', ')})`);
      return v;
    });
}

const ENTRY_URL = new URL('../../src/index.js', import.meta.url);
const INTERNAL_URL = new URL('../../src/api/sandbox.js', import.meta.url);
const ENTRY_TS = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

export type PyfenceLoad = { status: 'ok'; Sandbox: SandboxClass } | { status: 'missing'; note: string };

/**
 * Imports `Sandbox` from src/index. A missing entry file yields `{ status: 'missing' }`; an
 * entry that exists but fails to import (or lacks `Sandbox.create`) throws, so a broken
 * engine is never silently skipped.
 */
export async function loadPyfence(): Promise<PyfenceLoad> {
  if (!existsSync(ENTRY_TS) && !existsSync(fileURLToPath(ENTRY_URL))) {
    return { status: 'missing', note: 'src/index.ts not found — pyfence columns skipped' };
  }
  const mod = (await import(ENTRY_URL.href)) as { Sandbox?: SandboxClass };
  if (!mod.Sandbox || typeof mod.Sandbox.create !== 'function') {
    throw new Error('src/index does not export Sandbox with a static create()');
  }
  // The unmetered build is internal (not on the public Sandbox): reached through its own module.
  const internal = (await import(INTERNAL_URL.href)) as { createUnmeteredSandbox?: SandboxClass['createUnmetered'] };
  const { create } = mod.Sandbox;
  return { status: 'ok', Sandbox: { create: (o) => create.call(mod.Sandbox, o), createUnmetered: internal.createUnmeteredSandbox } };
}
