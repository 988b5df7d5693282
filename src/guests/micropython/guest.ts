// MicroPython as a guest of the one Session (src/session/session.ts): its instances, setup, program
// runner, soft stop (a scheduled KeyboardInterrupt), outcome classification and snapshots.
import { monotonicMs } from '../../core/clock.js';
import type { AuditSink } from '../../core/audit.js';
import type { ModuleVariant } from '../../engine/abi.js';
import type { RunGuard } from '../../engine/run-guard.js';
import { DEFAULT_DENIED } from '../../capabilities/import-policy.js';
import { VirtualFS } from '../../vfs/vfs.js';
import { guardOf, type Executed, type Guest, type RunChannel, type SoftStop } from '../guest.js';
import { auditDeniedImport, faultError, pythonError, stopError } from '../python-common/errors.js';
import { prepareProgram, valueReportOf, type ValueReport } from '../python-common/program.js';
import type { RunErrorReport } from '../python-common/result.js';
import { withoutRunWrapperFrame, withoutSandboxFrames, withoutWrapperFrame } from '../python-common/traceback.js';
import { applyImportPolicy } from './import-table.js';
import type { EngineInstance } from './instance.js';
import { newInstance } from './instances.js';
import { exceptionMessage, execSource } from './interpreter.js';
import { snapshotInstance, type RestoredSession } from './session-snapshot.js';

/** What a session sets up in each interpreter and how it answers host calls. */
export interface GuestConfig {
  /** JSON for `__pyfence__.setup` (host modules, env, argv), or null. */
  spec: string | null;
  /** Answers one host call; may block up to `guard.waitBudgetMs()`. Refusals go to `audit`. */
  hostCall(request: string | null, guard: RunGuard, audit: AuditSink): string;
  /** Modules the guest may not import (import-policy.ts); the defaults when absent. */
  denied?: readonly string[];
  /**
   * Makes the session's files, with a restored session's (kept across runs and across replaced
   * interpreters; made anew only when a pool renews the session for its next run).
   */
  vfs?: (restoredFiles?: Record<string, Uint8Array>) => VirtualFS;
}

const NO_REPLY = '{"ok":null}';

const NO_GRANTS: GuestConfig = {
  spec: null,
  hostCall: (_request, _guard, audit) => {
    audit('host-call', 'no host functions are granted to this sandbox');
    return JSON.stringify({ error: ['RuntimeError', 'no host functions are granted to this sandbox'] });
  },
};

/** MicroPython's scheduled KeyboardInterrupt, with the fuel and time it may take to unwind. */
const SOFT_STOP: SoftStop<EngineInstance> = {
  request: (inst) => inst.call((e) => e.mp_sched_keyboard_interrupt()),
  grace: { fuel: 60_000_000, ms: 100 }, // fuel: one unit per instruction (src/instrument/meter.ts)
};

/** Budget for setting up a fresh interpreter (a few module objects): generous, but bounded. */
const SETUP_LIMITS = { fuel: 3e9, timeoutMs: 10_000 };

/** A denied module, or its `u`-prefixed alias. */
function deniedBy(denied: readonly string[]): (name: string) => boolean {
  return (name) => denied.includes(name) || (name.startsWith('u') && denied.includes(name.slice(1)));
}

/**
 * A denied builtin module is invisible to the interpreter, which says "no module named 'X'" when the
 * prelude's import wrapper (which says why) has been removed by the guest: say why here too.
 */
function explainDeniedImport(type: string, traceback: string, denies: (name: string) => boolean): string {
  if (type !== 'ImportError') return traceback;
  return traceback.replace(/ImportError: no module named '([^']+)'\n$/, (line, name: string) =>
    denies(name) ? `ImportError: module '${name}' is not allowed in this sandbox\n` : line,
  );
}

function errorOf({ outcome, wrapped }: Executed, denies: (name: string) => boolean, audit: AuditSink): RunErrorReport | null {
  switch (outcome.kind) {
    case 'ok':
      return null;
    case 'exit':
      return outcome.status === 0 ? null : { kind: 'python', type: 'SystemExit', message: String(outcome.status), traceback: null };
    case 'exception': {
      if (outcome.type === 'SystemExit' && /SystemExit(: 0)?\s*$/.test(outcome.traceback)) return null;
      let traceback = explainDeniedImport(outcome.type, withoutSandboxFrames(outcome.traceback), denies);
      if (wrapped) traceback = withoutRunWrapperFrame(traceback);
      const error = pythonError(outcome.type, exceptionMessage(outcome.type, traceback), traceback);
      auditDeniedImport(error, denies, audit);
      return error;
    }
    case 'stopped':
      return stopError(outcome.reason, outcome.message);
    case 'fault':
      return faultError(outcome.message);
  }
}

/** `restored` files come with a snapshot's state (RestoredSession). */
export function micropythonGuest(variant: ModuleVariant, config: GuestConfig = NO_GRANTS): Guest<EngineInstance, RestoredSession> {
  const denied = config.denied ?? DEFAULT_DENIED;
  const denies = deniedBy(denied);
  return {
    files: (restored) => config.vfs?.(restored?.files) ?? new VirtualFS(),

    instantiate(vfs, _clock, restored) {
      const inst = newInstance(variant, vfs);
      if (restored) inst.restoreState(restored.state.state);
      applyImportPolicy(inst, variant, denied);
      // A restored interpreter still holds the grants of the session it came from: replace them.
      const spec = config.spec ?? (restored ? '{}' : null);
      if (spec !== null) {
        inst.fuel.begin(SETUP_LIMITS.fuel, guardOf(inst, SOFT_STOP, SETUP_LIMITS, monotonicMs()));
        const outcome = execSource(inst, `__pyfence__.setup(${JSON.stringify(spec)})`);
        inst.fuel.end();
        if (outcome.kind !== 'ok') throw new Error(`pyfence: setting up the sandbox failed: ${JSON.stringify(outcome)}`);
      }
      return inst;
    },

    softStop: SOFT_STOP,

    channel(guard, audit): RunChannel {
      let value: ValueReport | null = null;
      return {
        hostCall(request) {
          const report = request === null ? null : valueReportOf(request);
          if (report) return (value = report), NO_REPLY;
          const reply = config.hostCall(request, guard, audit);
          guard.checkpoint(); // time spent in the host counts against the deadline
          return reply;
        },
        value: () => value,
      };
    },

    exec(inst, code, program) {
      const prepared = prepareProgram(code, program);
      return { outcome: execSource(inst, prepared.source, prepared.topLevelAwait), wrapped: prepared.wrapped };
    },

    /** A backward jump consumes a pending interrupt. */
    drainInterrupt(inst) {
      const outcome = execSource(inst, '[0 for _ in (1, 2)]');
      return outcome.kind === 'exception' && outcome.type === 'KeyboardInterrupt';
    },

    classify: (executed, run) => errorOf(executed, denies, run.audit),

    softStopError(stop, { outcome, wrapped }) {
      const unwrap = wrapped ? withoutRunWrapperFrame : withoutWrapperFrame;
      return stopError(stop.reason, stop.message, outcome.kind === 'exception' ? unwrap(withoutSandboxFrames(outcome.traceback)) : null);
    },

    interruptedAtEnd: { kind: 'python', type: 'KeyboardInterrupt', message: '', traceback: 'KeyboardInterrupt: \n' },

    /** Running an empty program touches the pages the compiler and VM use: it halves the next run's latency. */
    warm(inst) {
      execSource(inst, 'pass');
    },

    capture: (inst, vfs) => ({ state: inst.captureState(), files: Object.fromEntries(vfs.memory.files()) }),

    snapshot: (inst, vfs) => snapshotInstance(inst, variant, vfs),
  };
}
