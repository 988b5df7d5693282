// Opening a session (the interpreter behind a Sandbox or a pool slot) from resolved options: the
// host bridge for its grants, and either an inline or a worker backend.
import type { ModuleVariant } from '../engine/abi.js';
import { UsageError } from '../core/errors.js';
import type { RestoredSession } from '../guests/micropython/session-snapshot.js';
import { WorkerSession } from '../pool/worker-session.js';
import { HostBridge } from '../capabilities/host-functions.js';
import { InlineSession } from '../guests/micropython/guest.js';
import { buildVfs, hostBridge, type Isolation, type ResolvedSandboxOptions } from '../capabilities/resolved-options.js';
import { checkCPythonOptions } from '../guests/cpython/open.js';
import { cpythonGrants } from '../guests/cpython/grants.js';
import type { CPythonSessionState } from '../guests/cpython/snapshot.js';
import type { WorkerRestore } from '../pool/worker-session.js';

export type Session = InlineSession | WorkerSession;

export function openInline(resolved: ResolvedSandboxOptions, bridge: HostBridge, variant: ModuleVariant, restored?: RestoredSession): InlineSession {
  return new InlineSession(
    variant,
    {
      spec: resolved.guestSpec,
      determinism: resolved.determinism,
      denied: resolved.denied,
      vfs: () => buildVfs(resolved.vfs, restored?.files),
      hostCall: (request, guard, audit) => bridge.callSync(request, () => guard.waitBudgetMs(), audit),
    },
    restored?.state,
  );
}

export function openWorker(resolved: ResolvedSandboxOptions, bridge: HostBridge, variant: ModuleVariant, restored?: WorkerRestore): Promise<WorkerSession> {
  buildVfs(resolved.vfs); // mount errors surface here, as a UsageError, before a worker starts
  const cpythonGrantsJson = resolved.engine === 'cpython' ? cpythonGrants(resolved, bridge).json : undefined;
  return WorkerSession.start(
    {
      engine: resolved.engine,
      variant,
      guestSpec: resolved.guestSpec,
      bridge,
      determinism: resolved.determinism,
      denied: resolved.denied,
      vfs: resolved.vfs,
      cpythonGrants: cpythonGrantsJson,
    },
    restored,
  );
}

/**
 * A CPython session in a worker thread; what the engine does not support is refused here first.
 * `restore`: the snapshot's session, read after the options are checked.
 */
export function openCPythonWorker(resolved: ResolvedSandboxOptions, variant: ModuleVariant, restore?: () => CPythonSessionState): Promise<WorkerSession> {
  checkCPythonOptions(resolved);
  const state = restore?.();
  return openWorker(resolved, hostBridge(resolved), variant, state && { state, limits: resolved.limits });
}

export async function openSession(
  resolved: ResolvedSandboxOptions,
  variant: ModuleVariant,
  restored?: RestoredSession,
  isolation: Isolation = resolved.isolation,
): Promise<Session> {
  const bridge = hostBridge(resolved);
  return isolation === 'worker' ? openWorker(resolved, bridge, variant, restored) : openInline(resolved, bridge, variant, restored);
}
