// The queue's names, kept free of dependencies so the CLI can show them without loading BullMQ.
export const DEFAULT_QUEUE = 'pyfence';

/** `run`: a run request (`{code, engine?}` or `{wat | wasm_base64, args?, stdin?}`, with `limits?, files?`) in a fresh sandbox; the job's return value is the run result JSON. */
export const RUN_JOB = 'run';
/** `session-run`: `{session, code, limits?}` continues a session kept as a snapshot in Redis. */
export const SESSION_RUN_JOB = 'session-run';

/** Redis keys of a session: a hash (snapshot, files, version) and its writer's lock. */
export function sessionKeys(queue: string, id: string) {
  const base = `pyfence:${queue}:session:${id}`;
  return { data: base, lock: `${base}:lock` };
}
