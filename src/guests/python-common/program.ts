// What one run executes: the user's code, directly, or through the guest's `run_main`
// (guest/run_main.py) when the run has inputs, a file name, a final expression to report or a
// top-level await. Inputs cross as data only (host-codec.ts), validated here on the calling thread.
import { UsageError } from '../../core/errors.js';
import { fromWire, HostValueError, toWire, type HostValue } from '../../capabilities/host-codec.js';

/** The file name MicroPython gives code it is handed directly. */
export const DEFAULT_FILENAME = '<stdin>';

/** A run's program options, resolved: inputs as wire JSON (or null) and the file name. */
export interface ProgramSpec {
  inputs: string | null;
  filename: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);

export function resolveProgramSpec(inputs: unknown, filename: unknown): ProgramSpec {
  if (filename !== undefined && (typeof filename !== 'string' || filename === '' || /["\n\r\0]/.test(filename))) {
    throw new UsageError('filename must be a non-empty string without quotes or line breaks');
  }
  return { inputs: inputs === undefined ? null : inputsWire(inputs), filename: (filename as string | undefined) ?? DEFAULT_FILENAME };
}

function inputsWire(inputs: unknown): string {
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs) || Object.getPrototypeOf(inputs) !== Object.prototype) {
    throw new UsageError('inputs must be a plain object: { name: value }');
  }
  const wire: Record<string, unknown> = Object.create(null);
  for (const name of Object.keys(inputs)) {
    if (!IDENTIFIER.test(name) || name.startsWith('__') || KEYWORDS.has(name)) {
      throw new UsageError(`inputs: "${name}" is not a valid global name (a Python identifier, not a keyword, not starting with __)`);
    }
    try {
      wire[name] = toWire((inputs as Record<string, unknown>)[name]);
    } catch (e) {
      if (e instanceof HostValueError) throw new UsageError(`inputs.${name}: ${e.message}`);
      throw e;
    }
  }
  return JSON.stringify(wire);
}

/** A CPython run's program: without a file name ('') the session names the program after argv[0], as python3 does. */
export function cpythonProgram(program: ProgramSpec, filenameGiven: boolean): ProgramSpec {
  return filenameGiven ? program : { ...program, filename: '' };
}

/**
 * Lines that end a program without a value: statements, and a call of print (None), so the
 * commonest program ending skips the value machinery.
 */
const STATEMENT_START =
  /^(?:@|print\(|(?:def|class|if|elif|else|for|while|try|except|finally|with|import|from|return|pass|del|raise|global|nonlocal|assert|break|continue|async)\b)/;

/**
 * Whether the code may end in an expression statement, judged by its last line starting in column 0.
 * Only a "maybe": the guest decides by compiling (guest/run_main.py). A "no" skips the value machinery,
 * which costs a few hundred thousand fuel units per run, so the commonest endings must say no.
 */
export function mayEndInExpression(code: string): boolean {
  const lines = code.trimEnd().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i];
    if (line === '' || line[0] === ' ' || line[0] === '\t' || line[0] === '#' || line[0] === '\r') continue;
    return !STATEMENT_START.test(line) && !isAssignment(line);
  }
  return false;
}

/**
 * An assignment (`x = 1`, `d[k] += v`, `a: int = 2`): a `=` outside brackets and strings that is not
 * part of `==`, `!=`, `<=` or `>=`. Anything unusual reads as "not an assignment" (the guest decides).
 */
function isAssignment(line: string): boolean {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return false;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === '=' && depth === 0) {
      if (line[i + 1] === '=') i++;
      else if (!'=!<>'.includes(line[i - 1] ?? '')) return true;
    }
  }
  return false;
}

export interface PreparedProgram {
  /** What the engine executes. */
  source: string;
  /** Compile with top-level await allowed (the guest drives the module body). */
  topLevelAwait: boolean;
  /** Run through `run_main`: the first traceback frame is the wrapper's, not the user's. */
  wrapped: boolean;
}

export function prepareProgram(code: string, spec: ProgramSpec): PreparedProgram {
  const topLevelAwait = /\bawait\b/.test(code);
  const wantValue = !topLevelAwait && mayEndInExpression(code);
  if (!topLevelAwait && !wantValue && spec.inputs === null && spec.filename === DEFAULT_FILENAME) {
    return { source: code, topLevelAwait: false, wrapped: false };
  }
  const py = (v: unknown) => (v === null ? 'None' : typeof v === 'boolean' ? (v ? 'True' : 'False') : JSON.stringify(v));
  // Every tagged wire value is an object starting {"$ (the inputs' own names never start with $).
  const tagged = spec.inputs !== null && spec.inputs.includes('{"$');
  const args = [code, spec.filename, wantValue, spec.inputs, tagged, topLevelAwait].map(py).join(', ');
  return { source: `__pyfence__.run_main(${args})`, topLevelAwait, wrapped: true };
}

/** A final expression's value as the guest reported it: wire JSON, or why it could not cross. */
export type ValueReport = { wire: string } | { error: string };

const VALUE_PREFIX = '$value:';

/** A host-channel request that reports the run's value (guest/run_main.py report_value), or null. */
export function valueReportOf(request: string): ValueReport | null {
  if (!request.startsWith(VALUE_PREFIX)) return null;
  const body = request.slice(VALUE_PREFIX.length);
  return body[0] === 'v' ? { wire: body.slice(1) } : { error: body.slice(1) };
}

/** The host value of a report; a malformed report reads as no value. */
export function decodeValue(report: ValueReport | null): { value: HostValue | undefined; error: string | null } {
  if (report === null) return { value: undefined, error: null };
  if ('error' in report) return { value: undefined, error: `the value of the last expression cannot leave the sandbox: ${report.error}` };
  try {
    return { value: fromWire(JSON.parse(report.wire)), error: null };
  } catch {
    return { value: undefined, error: 'the value of the last expression could not be decoded' };
  }
}
