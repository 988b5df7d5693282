// Opening a CPython session from resolved Sandbox options. What this engine does not support yet is
// refused with a UsageError, never silently ignored.
import type { ModuleVariant } from '../../engine/abi.js';
import { UsageError } from '../../core/errors.js';
import { hostBridge, type GuestSpec, type ResolvedSandboxOptions } from '../../capabilities/resolved-options.js';
import { cpythonGrants, type CPythonGrants } from './grants.js';
import { CPythonSession, type CPythonConfig } from './guest.js';
import type { CPythonSessionState } from './snapshot.js';
import { cpythonTemplate } from './template.js';

/** Refuses what this engine cannot do, before any interpreter (or worker) is started. */
export function checkCPythonOptions(resolved: ResolvedSandboxOptions): void {
  const initialBytes = cpythonTemplate().state.memoryBytes;
  if (resolved.limits.memoryBytes < initialBytes) {
    throw new UsageError(`limits.memoryBytes must be at least ${initialBytes} with engine 'cpython' (its initial memory)`);
  }
}

/** A session's configuration: from resolved options, or from what a worker was started with. */
export function cpythonConfig(
  options: Pick<ResolvedSandboxOptions, 'guestSpec' | 'determinism' | 'vfs'>,
  grants: CPythonGrants,
  variant: ModuleVariant,
  interrupt?: Int32Array,
): CPythonConfig {
  const spec = (options.guestSpec ? JSON.parse(options.guestSpec) : {}) as GuestSpec;
  return {
    env: spec.env ?? {},
    argv: spec.argv ?? [],
    determinism: options.determinism,
    vfs: options.vfs,
    grants,
    interrupt,
    unmetered: variant === 'unmetered',
  };
}

/**
 * A session on the calling thread (worker sandboxes: src/api/sessions.ts). `restore`: the
 * snapshot's session, read after the options are checked so that their errors come first.
 */
export function openCPythonSession(
  resolved: ResolvedSandboxOptions,
  restore?: () => CPythonSessionState,
  variant: ModuleVariant = 'metered',
): CPythonSession {
  checkCPythonOptions(resolved);
  const config = cpythonConfig(resolved, cpythonGrants(resolved, hostBridge(resolved)), variant);
  return new CPythonSession(config, restore && { state: restore(), limits: resolved.limits });
}
