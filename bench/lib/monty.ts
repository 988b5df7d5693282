// @pydantic/monty baseline (Rust interpreter via N-API), timed in-process.
// Each timed run = parse (`new Monty(code)`) + `run()`, like the other engines which also
// compile the source on every run. print() output is captured with `printCallback`.

export interface MontyResult {
  status: 'ok' | 'unsupported' | 'error' | 'absent';
  times: number[];
  stdout?: string;
  /** "Type: message" of the failure, when status is not ok. */
  error?: string;
}

interface MontyErrorLike {
  exception?: { typeName?: string; message?: string };
  message?: string;
}

interface MontyInstance {
  run(options?: { printCallback?: (stream: string, text: string) => void; limits?: Record<string, number> }): unknown;
}

interface MontyModule {
  Monty: new (code: string, options?: { scriptName?: string }) => MontyInstance;
  MontySyntaxError: new (...a: never[]) => Error;
}

const MONTY_SPEC = '@pydantic/monty';
// Exception types that mean "Monty does not implement this Python feature/module".
const UNSUPPORTED_TYPES = new Set(['SyntaxError', 'NotImplementedError', 'ModuleNotFoundError', 'ImportError']);

let modPromise: Promise<MontyModule | undefined> | undefined;

export function loadMonty(): Promise<MontyModule | undefined> {
  modPromise ??= (import(MONTY_SPEC) as Promise<MontyModule>).catch(() => undefined);
  return modPromise;
}

function classify(mod: MontyModule, e: unknown): { status: 'unsupported' | 'error'; error: string } {
  const info = (e as MontyErrorLike).exception;
  const type = info?.typeName ?? (e instanceof mod.MontySyntaxError ? 'SyntaxError' : 'Error');
  const msg = info?.message ?? (e as MontyErrorLike).message ?? String(e);
  return { status: UNSUPPORTED_TYPES.has(type) ? 'unsupported' : 'error', error: `${type}: ${msg}` };
}

/** Runs `code` `runs` times (+`warmup` untimed) in-process; never throws. */
export async function runMonty(code: string, runs: number, warmup = 1, name = 'main.py'): Promise<MontyResult> {
  const mod = await loadMonty();
  if (!mod) return { status: 'absent', times: [] };
  const times: number[] = [];
  let stdout: string | undefined;
  for (let i = 0; i < warmup + runs; i++) {
    const chunks: string[] = [];
    const printCallback = (_stream: string, text: string): void => {
      chunks.push(text); // callback must return undefined
    };
    const t0 = process.hrtime.bigint();
    try {
      new mod.Monty(code, { scriptName: name }).run({ printCallback });
    } catch (e) {
      return { times: [], stdout: chunks.join(''), ...classify(mod, e) };
    }
    const t1 = process.hrtime.bigint();
    if (i >= warmup) times.push(Number(t1 - t0) / 1e6);
    stdout ??= chunks.join('');
  }
  return { status: 'ok', times, stdout };
}
