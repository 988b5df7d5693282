// The engines the behaviour suite (test/engine-*.test.ts) runs every behaviour on, one program per
// behaviour in each, and what each engine declares different. README's engine table lists the same
// differences (test/readme-engines.test.ts compares them) and the suite asserts them, so the table
// cannot drift without a test failing.
import { join } from 'node:path';
import { Sandbox, WasmModule, type Limits, type SandboxOptions } from '../../src/index.js';
import type { Audit } from '../../src/core/audit.js';
import type { ErrorInfo } from '../../src/core/errors.js';

export const PYTHON_ENGINES = ['micropython', 'cpython'] as const;
export const ENGINES = [...PYTHON_ENGINES, 'wasi'] as const;
export type EngineName = (typeof ENGINES)[number];
export type PythonEngineName = (typeof PYTHON_ENGINES)[number];

/** What an engine declares different from the others (README, "Engines"). */
export interface Declared {
  /** A fuel or time limit first interrupts the guest (KeyboardInterrupt), so its state survives. */
  softStop: boolean;
  /** Sessions that keep state across runs: snapshot, restore and fork. */
  sessions: boolean;
  /** A running call can be interrupted (AbortSignal, `interrupt()`) without ending the session. */
  interrupt: boolean;
  /**
   * Memory past the cap: 'error' ends the run with kind memory (an interpreter's MemoryError);
   * 'refused' answers memory.grow with -1 and audits it, and the module carries on.
   */
  memoryCap: 'error' | 'refused';
}

export const DECLARED: Record<EngineName, Declared> = {
  micropython: { softStop: true, sessions: true, interrupt: true, memoryCap: 'error' },
  cpython: { softStop: true, sessions: true, interrupt: true, memoryCap: 'error' },
  wasi: { softStop: false, sessions: false, interrupt: false, memoryCap: 'refused' },
};

/** The same intent in each engine's language: Python source, or a module in test/fixtures/wasm. */
export const PROGRAMS = {
  /** Never ends on its own. */
  loop: { python: 'while True:\n    pass', wasi: 'infinite_loop.wat' },
  /** Sleeps far longer than any deadline. */
  sleep: { python: 'import time\ntime.sleep(10_000)', wasi: 'sleep_forever.wat' },
  /** Writes to stdout without end. */
  flood: { python: "while True:\n    print('flood ' * 10)", wasi: 'output_flood.wat' },
  /** Asks for memory without end. */
  grow: { python: 'chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))', wasi: 'memory_grow_bomb.wat' },
  /** Reaches for a capability nobody granted. */
  ungranted: { python: 'import js', wasi: 'ungranted_import.wat' },
} as const;

export type ProgramName = keyof typeof PROGRAMS;

/** What every engine's result has (core's RunResult base). */
export interface Outcome {
  ok: boolean;
  stdout: string;
  error: ErrorInfo | null;
  audit: Audit;
  usage: { fuel: number; memoryPeakBytes: number; wallMs: number };
}

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'wasm');
const modules = new Map<string, Promise<WasmModule>>();

export function fixture(name: string): Promise<WasmModule> {
  let m = modules.get(name);
  if (!m) modules.set(name, (m = WasmModule.fromFile(join(FIXTURES, name))));
  return m;
}

/** Runs `program` once in a new sandbox (or module run) of `engine`. */
export async function runOnce(engine: EngineName, program: ProgramName, limits?: Limits, options: SandboxOptions = {}): Promise<Outcome> {
  if (engine === 'wasi') return (await fixture(PROGRAMS[program].wasi)).run({ limits });
  const sb = await Sandbox.create({ ...options, engine });
  try {
    return await sb.run(PROGRAMS[program].python, { limits });
  } finally {
    sb.dispose();
  }
}

/**
 * Runs `code`, which prints before it does what the test waits on: its run, and a promise of its
 * first output (rejected if the run ends before it).
 */
export function runPrintingFirst(sb: Sandbox, code: string, options: Parameters<Sandbox['run']>[1] = {}): { run: Promise<import('../../src/index.js').RunResult>; started: Promise<void> } {
  let go!: () => void;
  const printed = new Promise<void>((resolve) => (go = resolve));
  const run = sb.run(code, { ...options, onStdout: () => go() });
  const ended = run.then(
    (r) => Promise.reject(new Error(`the run ended before it printed: ${JSON.stringify(r.error)}`)),
    (e) => Promise.reject(e),
  );
  ended.catch(() => {});
  return { run, started: Promise.race([printed, ended]) };
}

/** A loop that says "go" first: its run, and a promise of the "go" (rejected if the run ends before it). */
export function goThenLoop(sb: Sandbox, options: { signal?: AbortSignal } = {}): ReturnType<typeof runPrintingFirst> {
  return runPrintingFirst(sb, 'print("go")\nwhile True:\n    pass', options);
}
