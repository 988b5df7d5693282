// Opening a CPython session from resolved Sandbox options. What this engine does not support yet is
// refused with a UsageError, never silently ignored.
import { UsageError } from '../python/errors.js';
import type { GuestSpec, ResolvedSandboxOptions } from '../python/options.js';
import { hostBridge } from '../python/sessions.js';
import { cpythonGrants } from './grants.js';
import { CPythonSession } from './session.js';
import { cpythonTemplate } from './template.js';

function notYet(what: string, hint = ''): never {
  throw new UsageError(`${what} not yet supported with engine 'cpython'${hint}`);
}

export function openCPythonSession(resolved: ResolvedSandboxOptions, restoring: boolean): CPythonSession {
  if (restoring) notYet('snapshots are');
  // A network grant or an async host function makes 'worker' the default: say how to run inline.
  if (resolved.isolation !== 'inline') notYet("isolation 'worker' is", " (the default with net or an async host function: give isolation: 'inline')");
  const initialBytes = cpythonTemplate().state.memoryBytes;
  if (resolved.limits.memoryBytes < initialBytes) {
    throw new UsageError(`limits.memoryBytes must be at least ${initialBytes} with engine 'cpython' (its initial memory)`);
  }
  const spec = (resolved.guestSpec ? JSON.parse(resolved.guestSpec) : {}) as GuestSpec;
  return new CPythonSession({
    env: spec.env ?? {},
    argv: spec.argv ?? [],
    determinism: resolved.determinism,
    vfs: resolved.vfs,
    grants: cpythonGrants(resolved, hostBridge(resolved)),
  });
}
