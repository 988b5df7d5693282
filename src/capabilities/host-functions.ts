// Host functions: `modules: { weather: { forecast } }` makes `import weather; weather.forecast("Oslo")`
// work in Python. The guest sends `[module, function, args, kwargs]` through the host channel; this
// module checks the call against the grant, converts data both ways (host-codec.ts) and turns every
// failure into a Python exception carrying a message, never a stack or a host object.
import type { AuditSink } from '../core/audit.js';
import { UsageError } from '../core/errors.js';
import { HostValueError, toWire, WireLimitError, type HostValue } from './host-codec.js';
import { HostCallGate, type DecodedCall, type GateError, type GrantedNames } from './host-call-gate.js';

/**
 * A function the guest may call. Arguments and the result are data (HostValue); a function that
 * returns a Promise (declared `async` or not) is awaited, which needs a worker sandbox.
 */
// A method signature, so functions with narrower parameters (`(city: string) => ...`) are accepted.
export type HostFunction = { call(...args: HostValue[]): HostValue | void | Promise<HostValue | void> }['call'];
/** Module name -> function name -> function. */
export type HostModules = Record<string, Record<string, HostFunction>>;

/** A function the sandbox itself provides (the network) under a reserved module name, in both forms. */
export interface InternalHandler {
  /** For inline sandboxes: may block up to `budgetMs()`. Refusals of the grant go to `audit`. */
  sync(args: HostValue[], budgetMs: () => number, audit: AuditSink): HostValue;
  /** For worker sandboxes, answered on the main thread. */
  async(args: HostValue[], audit: AuditSink): Promise<HostValue>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Validates `modules` and returns what the guest gets: module -> function name -> is it async. */
export function hostModuleNames(modules: unknown): Record<string, Record<string, boolean>> {
  if (modules === undefined) return {};
  if (typeof modules !== 'object' || modules === null || Array.isArray(modules)) {
    throw new UsageError('modules must be an object: { moduleName: { functionName: function } }');
  }
  const names: Record<string, Record<string, boolean>> = {};
  for (const [mod, fns] of Object.entries(modules)) {
    if (!IDENTIFIER.test(mod) || mod.startsWith('__')) {
      throw new UsageError(`modules: "${mod}" is not a valid module name (a Python identifier not starting with __)`);
    }
    if (typeof fns !== 'object' || fns === null || Array.isArray(fns)) {
      throw new UsageError(`modules.${mod} must be an object of functions`);
    }
    names[mod] = {};
    for (const [fn, value] of Object.entries(fns)) {
      if (!IDENTIFIER.test(fn) || fn.startsWith('__')) {
        throw new UsageError(`modules.${mod}: "${fn}" is not a valid function name (a Python identifier not starting with __)`);
      }
      if (typeof value !== 'function') throw new UsageError(`modules.${mod}.${fn} must be a function`);
      names[mod][fn] = value.constructor?.name === 'AsyncFunction';
    }
  }
  return names;
}

/** True if any granted function is declared `async` (such sandboxes default to worker isolation). */
export function hasAsyncFunction(modules: HostModules | undefined): boolean {
  return Object.values(modules ?? {}).some((fns) =>
    Object.values(fns).some((f) => typeof f === 'function' && f.constructor?.name === 'AsyncFunction'),
  );
}

type Reply = { ok: unknown } | { error: [string, string] };

const ERROR_TYPE: Record<string, string> = {
  TypeError: 'TypeError',
  RangeError: 'ValueError',
  PermissionError: 'PermissionError',
  ConnectionError: 'ConnectionError',
  TimeoutError: 'TimeoutError',
};

function errorReply(e: unknown): Reply {
  if (e instanceof HostValueError) return { error: ['TypeError', e.message] };
  if (e instanceof WireLimitError) return { error: ['ValueError', e.message] };
  if (e instanceof Error) return { error: [ERROR_TYPE[e.name] ?? 'RuntimeError', e.message] };
  return { error: ['RuntimeError', String(e)] };
}

function encodeReply(reply: Reply, label: string): string {
  if ('error' in reply) return JSON.stringify(reply);
  try {
    return JSON.stringify({ ok: toWire(reply.ok) });
  } catch (e) {
    const known = e instanceof HostValueError || e instanceof WireLimitError;
    const [type, message] = known ? (errorReply(e) as { error: [string, string] }).error : ['TypeError', String(e)];
    return JSON.stringify({ error: [type, `${label} returned a value the sandbox cannot take: ${message}`] });
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

interface PreparedCall {
  label: string;
  invoke: (budgetMs: () => number, audit: AuditSink) => unknown;
  invokeAsync: (audit: AuditSink) => unknown;
}

/** A refused call's reply, recorded: the guest asked for something its grant does not include. */
export function refusedCall(refusal: GateError, audit: AuditSink): string {
  audit('host-call', refusal.error[1]);
  return JSON.stringify(refusal);
}

export class HostBridge {
  private readonly gate: HostCallGate;

  constructor(
    private readonly modules: HostModules,
    private readonly internal: Record<string, InternalHandler> = {},
  ) {
    this.gate = new HostCallGate(this.grantedNames());
  }

  /** Every function the guest may call, by module (for a gate on another thread). */
  grantedNames(): GrantedNames {
    const names: Record<string, string[]> = {};
    for (const [mod, fns] of Object.entries(this.modules)) names[mod] = Object.keys(fns).filter((fn) => typeof fns[fn] === 'function');
    for (const label of Object.keys(this.internal)) {
      const dot = label.indexOf('.');
      (names[label.slice(0, dot)] ??= []).push(label.slice(dot + 1));
    }
    return names;
  }

  private prepare(call: DecodedCall): PreparedCall | GateError {
    const { module: mod, name, args } = call;
    const label = `${mod}.${name}`;
    const internal = Object.hasOwn(this.internal, label) ? this.internal[label] : undefined;
    if (internal) return { label, invoke: (budgetMs, audit) => internal.sync(args, budgetMs, audit), invokeAsync: (audit) => internal.async(args, audit) };
    const fns = Object.hasOwn(this.modules, mod) ? this.modules[mod] : undefined;
    const fn = fns && Object.hasOwn(fns, name) ? fns[name] : undefined;
    if (typeof fn !== 'function') return { error: ['AttributeError', `host module '${mod}' has no function '${name}'`] };
    const invoke = () => Reflect.apply(fn, undefined, args);
    return { label, invoke, invokeAsync: invoke };
  }

  /**
   * Inline sandboxes: the guest waits on this thread, so a host function must answer synchronously.
   * `request` null: larger than the engine reads (see HostCallGate.decode). Refusals go to `audit`.
   */
  callSync(request: string | null, budgetMs: () => number, audit: AuditSink): string {
    const decoded = this.gate.decode(request);
    const call = 'error' in decoded ? decoded : this.prepare(decoded);
    if (!('invoke' in call)) return refusedCall(call, audit);
    let result: unknown;
    try {
      result = call.invoke(budgetMs, audit);
    } catch (e) {
      return encodeReply(errorReply(e), call.label);
    }
    if (isThenable(result)) {
      Promise.resolve(result).catch(() => {}); // nobody will await it
      return encodeReply(
        {
          error: [
            'RuntimeError',
            `${call.label} returned a Promise, which an inline sandbox cannot wait for (its run holds the thread): create the sandbox with isolation: 'worker' (the default when a function is declared async)`,
          ],
        },
        call.label,
      );
    }
    return encodeReply({ ok: result }, call.label);
  }

  /**
   * Worker sandboxes: the call was decoded and checked by the gate in the worker (host-call-transport.ts
   * carries it here); the guest thread blocks while this (main) thread awaits the answer.
   */
  async call(decoded: DecodedCall, audit: AuditSink): Promise<string> {
    const call = this.prepare(decoded);
    if (!('invoke' in call)) return refusedCall(call, audit);
    try {
      return encodeReply({ ok: await call.invokeAsync(audit) }, call.label);
    } catch (e) {
      return encodeReply(errorReply(e), call.label);
    }
  }
}
