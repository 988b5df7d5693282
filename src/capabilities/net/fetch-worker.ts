// The helper thread that performs an inline sandbox's network requests while the sandbox's own
// thread blocks. It applies the same guarded fetch (allow list on every hop, caps) as a worker
// sandbox's main thread does.
import { workerData } from 'node:worker_threads';
import { serveBlockingCalls } from '../../core/blocking-call.js';
import type { NetRequest } from './guarded-fetch.js';
import type { NetPolicy } from './allow-list.js';
import { fetchAsync } from './sync-fetch.js';

const { port, signal } = workerData as { port: import('node:worker_threads').MessagePort; signal: SharedArrayBuffer };
serveBlockingCalls(port, signal, ({ policy, request }: { policy: NetPolicy; request: NetRequest }) => fetchAsync(policy, request));
