// Opening a session (the interpreter behind a Sandbox or a pool slot) from resolved options: the
// engine's guest, given the host bridge for its grants, on this thread or in a worker thread.
import type { ModuleVariant } from '../engine/abi.js';
import { WorkerSession } from '../pool/worker-session.js';
import type { HostBridge } from '../capabilities/host-functions.js';
import { buildVfs, hostBridge, type Isolation, type ResolvedSandboxOptions } from '../capabilities/resolved-options.js';
import { pythonEngine, type GuestSetup } from '../guests/registry.js';
import { Session } from '../session/session.js';

export type AnySession = Session | WorkerSession;

export function guestSetup(resolved: ResolvedSandboxOptions, bridge: HostBridge, variant: ModuleVariant): GuestSetup {
  return {
    variant,
    guestSpec: resolved.guestSpec,
    denied: resolved.denied,
    vfs: resolved.vfs,
    hostCall: (request, budgetMs, audit) => bridge.callSync(request, budgetMs, audit),
  };
}

/** `restored`: a snapshot's (or a fork's) state, as the engine read it. */
export function openInline(resolved: ResolvedSandboxOptions, bridge: HostBridge, variant: ModuleVariant, restored?: unknown): Session {
  const guest = pythonEngine(resolved.engine).guest(guestSetup(resolved, bridge, variant));
  return new Session(guest, { determinism: resolved.determinism }, restored === undefined ? undefined : { state: restored, limits: resolved.limits });
}

export function openWorker(resolved: ResolvedSandboxOptions, bridge: HostBridge, variant: ModuleVariant, restored?: unknown): Promise<WorkerSession> {
  buildVfs(resolved.vfs); // mount errors surface here, as a UsageError, before a worker starts
  return WorkerSession.start(
    {
      engine: resolved.engine,
      variant,
      guestSpec: resolved.guestSpec,
      bridge,
      determinism: resolved.determinism,
      denied: resolved.denied,
      vfs: resolved.vfs,
    },
    restored === undefined ? undefined : { state: restored, limits: resolved.limits },
  );
}

/**
 * A session for resolved options. What the engine does not support is refused first; `restore` reads
 * the state to continue after that, so that the options' errors come first.
 */
export async function openSession(
  resolved: ResolvedSandboxOptions,
  variant: ModuleVariant,
  restore?: () => unknown,
  isolation: Isolation = resolved.isolation,
): Promise<AnySession> {
  pythonEngine(resolved.engine).check(resolved.limits);
  const restored = restore?.();
  const bridge = hostBridge(resolved);
  return isolation === 'worker' ? openWorker(resolved, bridge, variant, restored) : openInline(resolved, bridge, variant, restored);
}
