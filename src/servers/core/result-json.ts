// Every run's result in the one wire shape the servers answer with, whichever engine ran it.
import type { Engine } from '../../api/options.js';
import type { RunResult } from '../../guests/python-common/result.js';
import type { WasmRunResult } from '../../guests/wasi/result.js';
import type { RunResultJson } from './schemas.js';
import { pythonRepr, valueJson } from './value.js';

export function pythonResultJson(result: RunResult, engine: Engine): RunResultJson {
  const { ok, stdout, stderr, error, usage, sandboxReplaced, audit } = result.toJSON();
  const json: RunResultJson = { ok, engine, stdout, stderr, error, usage, sandboxReplaced, audit };
  if (result.value !== undefined) Object.assign(json, { value: valueJson(result.value), valueRepr: pythonRepr(result.value) });
  if (result.valueError) json.valueError = result.valueError;
  return json;
}

export function moduleResultJson(r: WasmRunResult): RunResultJson {
  const error = r.error && { ...r.error, traceback: null, frames: [] };
  return { ok: r.ok, engine: 'wasm', exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, error, usage: r.usage, sandboxReplaced: false, audit: r.audit };
}
