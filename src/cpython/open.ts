// Opening a CPython session from resolved Sandbox options. What this engine does not support yet is
// refused with a UsageError, never silently ignored.
import { UsageError } from '../python/errors.js';
import type { GuestSpec, ResolvedSandboxOptions } from '../python/options.js';
import { resolveImportPolicy } from '../python/import-policy.js';
import { CPythonSession } from './session.js';
import type { CPythonSessionState } from './snapshot.js';
import { cpythonTemplate } from './template.js';

function notYet(what: string): never {
  throw new UsageError(`${what} not yet supported with engine 'cpython'`);
}

/** `restore`: the snapshot's session (it is read after the options are checked, so that their errors come first). */
export function openCPythonSession(resolved: ResolvedSandboxOptions, restore?: () => CPythonSessionState): CPythonSession {
  if (Object.keys(resolved.modules).length) notYet('host functions (modules) are');
  if (resolved.net) notYet('network access (net) is');
  if (resolved.isolation !== 'inline') notYet("isolation 'worker' is");
  if (resolved.denied.join() !== resolveImportPolicy(undefined).join()) notYet('an import policy (imports) is');
  const initialBytes = cpythonTemplate().state.memoryBytes;
  if (resolved.limits.memoryBytes < initialBytes) {
    throw new UsageError(`limits.memoryBytes must be at least ${initialBytes} with engine 'cpython' (its initial memory)`);
  }
  const spec = (resolved.guestSpec ? JSON.parse(resolved.guestSpec) : {}) as GuestSpec;
  const config = { env: spec.env ?? {}, argv: spec.argv ?? [], determinism: resolved.determinism, vfs: resolved.vfs };
  return new CPythonSession(config, restore && { state: restore(), limits: resolved.limits });
}
