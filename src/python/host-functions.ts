// Host functions: `modules: { weather: { forecast } }` makes `import weather; weather.forecast("Oslo")`
// work in Python. The guest sends `[module, function, args, kwargs]` through the host channel; this
// module checks the call against the grant, converts data both ways (host-codec.ts) and turns every
// failure into a Python exception carrying a message, never a stack or a host object.
import { UsageError } from './errors.js';
import { fromWire, HostValueError, toWire, type HostValue } from './host-codec.js';

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
  /** For inline sandboxes: may block up to `budgetMs()`. */
  sync(args: HostValue[], budgetMs: () => number): HostValue;
  /** For worker sandboxes, answered on the main thread. */
  async(args: HostValue[]): Promise<HostValue>;
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
  if (e instanceof Error) return { error: [ERROR_TYPE[e.name] ?? 'RuntimeError', e.message] };
  return { error: ['RuntimeError', String(e)] };
}

function encodeReply(reply: Reply, label: string): string {
  if ('error' in reply) return JSON.stringify(reply);
  try {
    return JSON.stringify({ ok: toWire(reply.ok) });
  } catch (e) {
    const message = e instanceof HostValueError ? `${label} returned a value the sandbox cannot take: ${e.message}` : String(e);
    return JSON.stringify({ error: ['TypeError', message] });
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

interface PreparedCall {
  label: string;
  invoke: (budgetMs: () => number) => unknown;
  invokeAsync: () => unknown;
}

export class HostBridge {
  constructor(
    private readonly modules: HostModules,
    private readonly internal: Record<string, InternalHandler> = {},
  ) {}

  private prepare(request: string): PreparedCall | Reply {
    let parsed: unknown;
    try {
      parsed = JSON.parse(request);
    } catch {
      return { error: ['ValueError', 'malformed host call'] };
    }
    if (!Array.isArray(parsed) || parsed.length !== 4 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') {
      return { error: ['ValueError', 'malformed host call'] };
    }
    const [mod, name, rawArgs, rawKwargs] = parsed as [string, string, unknown, unknown];
    const label = `${mod}.${name}`;
    let args: HostValue[];
    try {
      if (!Array.isArray(rawArgs)) throw new HostValueError('malformed arguments');
      args = rawArgs.map(fromWire);
      if (rawKwargs !== null) args.push(fromWire(rawKwargs as never)); // keyword arguments: one options object
    } catch (e) {
      return errorReply(e);
    }
    const internal = Object.hasOwn(this.internal, label) ? this.internal[label] : undefined;
    if (internal) return { label, invoke: (budgetMs) => internal.sync(args, budgetMs), invokeAsync: () => internal.async(args) };
    const fns = Object.hasOwn(this.modules, mod) ? this.modules[mod] : undefined;
    const fn = fns && Object.hasOwn(fns, name) ? fns[name] : undefined;
    if (typeof fn !== 'function') return { error: ['AttributeError', `host module '${mod}' has no function '${name}'`] };
    const invoke = () => Reflect.apply(fn, undefined, args);
    return { label, invoke, invokeAsync: invoke };
  }

  /** Inline sandboxes: the guest waits on this thread, so a host function must answer synchronously. */
  callSync(request: string, budgetMs: () => number): string {
    const call = this.prepare(request);
    if (!('invoke' in call)) return encodeReply(call, '');
    let result: unknown;
    try {
      result = call.invoke(budgetMs);
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

  /** Worker sandboxes: the guest thread blocks while this (main) thread awaits the answer. */
  async call(request: string): Promise<string> {
    const call = this.prepare(request);
    if (!('invoke' in call)) return encodeReply(call, '');
    try {
      return encodeReply({ ok: await call.invokeAsync() }, call.label);
    } catch (e) {
      return encodeReply(errorReply(e), call.label);
    }
  }
}
