// `pyfence worker`: consume a BullMQ queue until SIGINT/SIGTERM, then finish the jobs in progress.
import { availableParallelism } from 'node:os';
import { requirePackages } from '../engine/optional-package.js';
import { EXIT_CODES } from '../python/errors.js';
import type { SandboxOptions } from '../python/options.js';
import { stopSignal } from './stop-signal.js';

export interface WorkerFlags {
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
  });
  await worker.ready;
  process.stderr.write(`pyfence worker: ${worker.name} ready on queue "${flags.queue}"\n`);
  await stopSignal();
  process.stderr.write('pyfence worker: stopping after the jobs in progress\n');
  await worker.close();
  return EXIT_CODES.ok;
}
