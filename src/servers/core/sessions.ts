// Persistent sessions held by one server process: a worker sandbox each, one run at a time per
// session, bounded in number, disposed after sitting idle.
import { randomUUID } from 'node:crypto';
import type { Engine } from '../../api/options.js';
import type { Limits } from '../../core/limits.js';
import { Sandbox } from '../../api/sandbox.js';
import type { DirEntry } from '../../capabilities/sandbox-fs.js';
import { requestFiles, type RequestFiles } from './files.js';
import { OverloadError } from './gate.js';
import { narrowLimits } from './limits.js';
import { pythonResultJson } from './result-json.js';
import type { Runner, RunWatch } from './runner.js';
import type { RunResultJson } from './schemas.js';

export class UnknownSessionError extends Error {
  override name = 'UnknownSessionError';
  constructor(id: string) {
    super(`no session "${id}" (it may have expired or been closed)`);
  }
}

export interface SessionStoreOptions {
  maxSessions: number;
  /** A session not used for this long is closed. */
  idleMs: number;
}

interface Entry {
  sandbox: Sandbox;
  engine: Engine;
  lastUsed: number;
  /** The session's operations, one after another. */
  tail: Promise<unknown>;
  busy: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly runner: Runner,
    private readonly options: SessionStoreOptions,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(options.idleMs, 60_000)).unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A session on `engine` (one the runner enables; its default when not given). */
  async create(files?: RequestFiles, engine?: string): Promise<string> {
    const chosen = this.runner.engineFor(engine);
    if (this.sessions.size >= this.options.maxSessions) {
      throw new OverloadError(`too many sessions (${this.options.maxSessions}); close one or wait for idle ones to expire`);
    }
    const sandbox = await Sandbox.create({ ...this.runner.grants, engine: chosen, files: requestFiles(this.runner.grants, files) });
    const id = randomUUID();
    this.sessions.set(id, { sandbox, engine: chosen, lastUsed: Date.now(), tail: Promise.resolve(), busy: 0 });
    return id;
  }

  async run(id: string, code: string, limits?: Limits, watch: RunWatch = {}): Promise<RunResultJson> {
    const narrowed = narrowLimits(this.runner.limits, limits);
    const engine = this.entry(id).engine;
    const output = { onStdout: (t: string) => watch.onOutput?.('stdout', t), onStderr: (t: string) => watch.onOutput?.('stderr', t) };
    return this.use(id, async (sb) => pythonResultJson(await this.runner.gate.run(() => sb.run(code, { limits: narrowed, ...output })), engine));
  }

  async list(id: string, path: string): Promise<DirEntry[]> {
    return this.use(id, (sb) => sb.fs.list(path));
  }

  async readFile(id: string, path: string): Promise<Uint8Array> {
    return this.use(id, (sb) => sb.fs.readFile(path));
  }

  async snapshot(id: string): Promise<Uint8Array> {
    return this.use(id, (sb) => sb.snapshot());
  }

  /** Closes the session once its pending operations are done. */
  async close(id: string): Promise<void> {
    const entry = this.entry(id);
    this.sessions.delete(id);
    await entry.tail.catch(() => {});
    entry.sandbox.dispose();
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id)));
  }

  private entry(id: string): Entry {
    const entry = this.sessions.get(id);
    if (!entry) throw new UnknownSessionError(id);
    return entry;
  }

  private use<T>(id: string, op: (sandbox: Sandbox) => Promise<T>): Promise<T> {
    const entry = this.entry(id);
    entry.busy++;
    const result = entry.tail.then(() => op(entry.sandbox));
    entry.tail = result
      .catch(() => {})
      .finally(() => {
        entry.busy--;
        entry.lastUsed = Date.now();
      });
    return result;
  }

  private sweep(): void {
    const cutoff = Date.now() - this.options.idleMs;
    for (const [id, entry] of this.sessions) {
      if (entry.busy === 0 && entry.lastUsed < cutoff) void this.close(id);
    }
  }
}
