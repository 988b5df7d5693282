// `pyfence worker`: consume a BullMQ queue until SIGINT/SIGTERM, then finish the jobs in progress.
import { availableParallelism } from 'node:os';
import { requirePackages } from '../engine/optional-package.js';
import { EXIT_CODES } from '../core/errors.js';
import type { SandboxOptions } from '../api/options.js';
import type { EngineFlags } from './flags.js';
import { stopSignal } from './stop-signal.js';

export interface WorkerFlags extends EngineFlags {
  redis: string;
  queue: string;
  concurrency?: number;
  stallTimeout: number;
}

export async function workerCommand(flags: WorkerFlags, grants: SandboxOptions): Promise<number> {
  requirePackages(['bullmq', 'ioredis'], 'pyfence worker');
  const { startQueueWorker } = await import('../servers/queue/worker.js');
  const worker = startQueueWorker({
    redisUrl: flags.redis,
    queue: flags.queue,
    concurrency: flags.concurrency ?? availableParallelism(),
    stallMs: flags.stallTimeout,
    grants,
    engines: flags.engines,
  });
  // A stop may come before Redis ever answers: it must not wait for a connection first.
  const stop = stopSignal();
  const started = await Promise.race([worker.ready.then(() => true), stop.then(() => false)]);
  if (started) {
    process.stderr.write(`pyfence worker: ${worker.name} ready on queue "${flags.queue}"\n`);
    await stop;
  }
  process.stderr.write('pyfence worker: stopping after the jobs in progress\n');
  await worker.close();
  // BullMQ's lock and stall timers outlive a close that Redis never answered; nothing is left to do.
  process.exit(EXIT_CODES.ok);
}
