// A WebAssembly run's result as text a reader (or an LLM) can act on: output, exit code, why it stopped.
import type { WasmRunResult } from '../../guests/wasi/result.js';
import { describeAuditAndUsage, STOPS } from './describe-result.js';

export function describeWasmResult(r: WasmRunResult): string {
  const parts: string[] = [];
  if (r.stdout) parts.push(`stdout:\n${r.stdout}`);
  if (r.stderr) parts.push(`stderr:\n${r.stderr}`);
  parts.push(r.error ? `${STOPS[r.error.kind]} (${r.error.message})` : `exit code ${r.exitCode}`);
  return [...parts, ...describeAuditAndUsage(r)].join('\n');
}
