// Opening a session (the interpreter behind a Sandbox or a pool slot) from resolved options: the
// host bridge for its grants, and either an inline or a worker backend.
import type { ModuleVariant } from '../engine/abi.js';
import type { InstanceState } from '../engine/snapshot.js';
import { WorkerSession } from '../pool/worker-session.js';
import { HostBridge } from './host-functions.js';
import { InlineSession } from './inline-session.js';
import { netCalls } from './net/net-calls.js';
import type { Isolation, ResolvedSandboxOptions } from './options.js';

export type Session = InlineSession | WorkerSession;

export function hostBridge(resolved: ResolvedSandboxOptions): HostBridge {
  return new HostBridge(resolved.modules, resolved.net ? netCalls(resolved.net) : {});
}

export function openInline(resolved: ResolvedSandboxOptions, bridge: HostBridge, variant: ModuleVariant, restored?: InstanceState): InlineSession {
  return new InlineSession(
    variant,
    {
      spec: resolved.guestSpec,
      determinism: resolved.determinism,
      denied: resolved.denied,
      hostCall: (request, guard) => bridge.callSync(request, () => guard.waitBudgetMs()),
    },
    restored,
  );
}

export function openWorker(resolved: ResolvedSandboxOptions, bridge: HostBridge, variant: ModuleVariant, restored?: InstanceState): Promise<WorkerSession> {
  return WorkerSession.start(
    { variant, guestSpec: resolved.guestSpec, bridge, determinism: resolved.determinism, denied: resolved.denied },
    restored,
  );
}

export async function openSession(
  resolved: ResolvedSandboxOptions,
  variant: ModuleVariant,
  restored?: InstanceState,
  isolation: Isolation = resolved.isolation,
): Promise<Session> {
  const bridge = hostBridge(resolved);
  return isolation === 'worker' ? openWorker(resolved, bridge, variant, restored) : openInline(resolved, bridge, variant, restored);
}
