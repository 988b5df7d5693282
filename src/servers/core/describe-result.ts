// A run result as text a reader (or an LLM) can act on: output, the traceback, why the run stopped.
import type { RunResultJson } from './schemas.js';

export const STOPS: Record<string, string> = {
  fuel: 'stopped: fuel (CPU budget) exhausted',
  timeout: 'stopped: wall-clock time limit reached',
  memory: 'stopped: memory limit reached',
  output: 'stopped: output limit reached',
  denied: 'stopped: denied by the sandbox policy',
  fault: 'stopped: sandbox fault',
};

const MAX_SHOWN = 5;

/** What the text needs of a result (a library result's JSON has all of it but the engine). */
export type DescribedResult = Omit<RunResultJson, 'engine'>;

export function describeResult(r: DescribedResult): string {
  const parts: string[] = [];
  if (r.stdout) parts.push(`stdout:\n${r.stdout}`);
  if (r.stderr) parts.push(`stderr:\n${r.stderr}`);
  if (r.error) {
    if (r.error.traceback) parts.push(r.error.traceback.trimEnd());
    const stop = r.error.kind === 'python' ? `error: ${r.error.type}: ${r.error.message}` : `${STOPS[r.error.kind]} (${r.error.message})`;
    parts.push(stop);
    if (r.sandboxReplaced) parts.push('the interpreter was replaced: variables from earlier runs are gone');
  } else if (r.exitCode !== undefined) {
    parts.push(`exit code ${r.exitCode}`);
  }
  if (r.valueRepr !== undefined) parts.push(`value: ${r.valueRepr}`);
  else if (r.valueError) parts.push(`value not shown: ${r.valueError}`);
  if (r.files?.length) parts.push(`files written under /out/:\n${r.files.map((f) => `  ${f.path} (${f.mimeType}, ${f.bytes} bytes)`).join('\n')}`);
  if (r.filesOmitted?.length) parts.push(`files left out (over the size budget):\n${r.filesOmitted.map((f) => `  ${f.path} (${f.bytes} bytes)`).join('\n')}`);
  if (parts.length === 0) parts.push('(no output)');
  return [...parts, ...describeAuditAndUsage(r)].join('\n');
}

/** The closing lines every result's text shares: what was refused, and what the run used. */
export function describeAuditAndUsage(r: Pick<RunResultJson, 'audit' | 'usage'>): string[] {
  const parts: string[] = [];
  const { events, dropped } = r.audit;
  if (events.length > 0) {
    // A few are enough to say why an operation failed; the result's audit has them all.
    const shown = events.slice(0, MAX_SHOWN).map((e) => `  ${e.kind}: ${e.detail}`);
    const more = events.length - shown.length + dropped;
    parts.push(`refused by the sandbox:\n${shown.join('\n')}${more > 0 ? `\n  (and ${more} more)` : ''}`);
  }
  parts.push(`usage: ${r.usage.fuel} fuel, ${r.usage.memoryPeakBytes} bytes memory peak, ${Math.round(r.usage.wallMs)} ms`);
  return parts;
}
