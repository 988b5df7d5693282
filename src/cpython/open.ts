// Opening a CPython session from resolved Sandbox options. What this engine does not support yet is
// refused with a UsageError, never silently ignored.
import type { ModuleVariant } from '../engine/abi.js';
import { UsageError } from '../python/errors.js';
import type { GuestSpec, ResolvedSandboxOptions } from '../python/options.js';
import { resolveImportPolicy } from '../python/import-policy.js';
import { CPythonSession, type CPythonConfig } from './session.js';
import type { CPythonSessionState } from './snapshot.js';
import { cpythonTemplate } from './template.js';

function notYet(what: string): never {
  throw new UsageError(`${what} not yet supported with engine 'cpython'`);
}

/** Refuses what this engine cannot do, before any interpreter (or worker) is started. */
export function checkCPythonOptions(resolved: ResolvedSandboxOptions): void {
  if (Object.keys(resolved.modules).length) notYet('host functions (modules) are');
  if (resolved.net) notYet('network access (net) is');
  if (resolved.denied.join() !== resolveImportPolicy(undefined).join()) notYet('an import policy (imports) is');
  const initialBytes = cpythonTemplate().state.memoryBytes;
  if (resolved.limits.memoryBytes < initialBytes) {
    throw new UsageError(`limits.memoryBytes must be at least ${initialBytes} with engine 'cpython' (its initial memory)`);
  }
}

/** A session's configuration: from resolved options, or from what a worker was started with. */
export function cpythonConfig(
  options: Pick<ResolvedSandboxOptions, 'guestSpec' | 'determinism' | 'vfs'>,
  variant: ModuleVariant,
  interrupt?: Int32Array,
): CPythonConfig {
  const spec = (options.guestSpec ? JSON.parse(options.guestSpec) : {}) as GuestSpec;
  return { env: spec.env ?? {}, argv: spec.argv ?? [], determinism: options.determinism, vfs: options.vfs, interrupt, unmetered: variant === 'unmetered' };
}

/**
 * A session on the calling thread (worker sandboxes: src/python/sessions.ts). `restore`: the
 * snapshot's session, read after the options are checked so that their errors come first.
 */
export function openCPythonSession(
  resolved: ResolvedSandboxOptions,
  restore?: () => CPythonSessionState,
  variant: ModuleVariant = 'metered',
): CPythonSession {
  checkCPythonOptions(resolved);
  return new CPythonSession(cpythonConfig(resolved, variant), restore && { state: restore(), limits: resolved.limits });
}
