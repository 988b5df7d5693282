// One tool result stays within a byte budget whatever the program prints, so a chatty program never
// floods a model's context: the output keeps its head and its tail, with a line in between saying
// how much was cut; a long traceback or value is cut the same way. The text and the
// structuredContent are each within the budget.
import { describeResult } from '../core/describe-result.js';
import type { RunResultJson } from '../core/schemas.js';

/** About 24 KB: a few hundred lines of output, well inside any model's context. */
export const DEFAULT_RESULT_BUDGET_BYTES = 24 * 1024;
/** Below this a result cannot say anything useful. */
export const MIN_RESULT_BUDGET_BYTES = 2 * 1024;

export interface Cut {
  text: string;
  /** Bytes (UTF-8) and lines left out; 0 when nothing was cut. */
  cutBytes: number;
  cutLines: number;
}

const bytes = (s: string) => Buffer.byteLength(s);
const lines = (s: string) => (s.match(/\n/g)?.length ?? 0);

/** `text` within about `max` characters: its head and tail, the middle replaced by a note. */
export function cutMiddle(text: string, max: number): Cut {
  if (text.length <= max) return { text, cutBytes: 0, cutLines: 0 };
  const keep = Math.max(0, max - 80);
  let head = text.slice(0, Math.ceil(keep / 2));
  let tail = text.slice(text.length - Math.floor(keep / 2));
  // Cut at line ends when one is near, so no line is shown in half.
  const headEnd = head.lastIndexOf('\n');
  if (headEnd > head.length / 2) head = head.slice(0, headEnd + 1);
  const tailStart = tail.indexOf('\n');
  if (tailStart >= 0 && tailStart < tail.length / 2) tail = tail.slice(tailStart + 1);
  const middle = text.slice(head.length, text.length - tail.length);
  const cutBytes = bytes(middle);
  const cutLines = lines(middle);
  const note = `[... ${cutBytes} bytes${cutLines ? `, ${cutLines} lines` : ''} cut to fit the result budget ...]`;
  return { text: `${head}${head.endsWith('\n') || !head ? '' : '\n'}${note}\n${tail}`, cutBytes, cutLines };
}

export interface FittedResult {
  json: RunResultJson;
  text: string;
}

/**
 * The result and its text, each within `budget` bytes: stdout and stderr share what the rest leaves,
 * halving their share until both fit (multi-byte and escaped characters take more than one byte).
 */
export function fitResult(result: RunResultJson, budget: number): FittedResult {
  const whole = { json: result, text: describeResult(result) };
  if (bytes(JSON.stringify(result)) <= budget && bytes(whole.text) <= budget) return whole;
  const quarter = Math.floor(budget / 4);
  const base: RunResultJson = { ...result };
  if (base.error?.traceback) base.error = { ...base.error, traceback: cutMiddle(base.error.traceback, quarter).text, frames: base.error.frames.slice(0, 8).concat(base.error.frames.slice(-8)) };
  if (base.valueRepr !== undefined && base.valueRepr.length > quarter) {
    base.valueRepr = cutMiddle(base.valueRepr, quarter).text;
    delete base.value;
    base.valueError = 'the value is too large for this result: its repr is cut, its data left out';
  }
  const rest = bytes(JSON.stringify({ ...base, stdout: '', stderr: '' })) + 512;
  let share = Math.max(256, budget - rest);
  for (;;) {
    const total = result.stdout.length + result.stderr.length || 1;
    const out = cutMiddle(result.stdout, Math.floor((share * result.stdout.length) / total));
    const err = cutMiddle(result.stderr, Math.floor((share * result.stderr.length) / total));
    const json: RunResultJson = { ...base, stdout: out.text, stderr: err.text };
    if (out.cutBytes || err.cutBytes) {
      json.truncated = {
        ...(out.cutBytes ? { stdout: { cutBytes: out.cutBytes, cutLines: out.cutLines } } : {}),
        ...(err.cutBytes ? { stderr: { cutBytes: err.cutBytes, cutLines: err.cutLines } } : {}),
      };
    }
    const text = describeResult(json);
    if ((bytes(JSON.stringify(json)) <= budget && bytes(text) <= budget) || share <= 64) return { json, text };
    share = Math.floor(share / 2);
  }
}
