export { Sandbox, type RunOptions } from './python/sandbox.js';
export { SandboxFsError, type SandboxFiles, type DirEntry } from './python/sandbox-fs.js';
export type { MountOptions, FsQuota } from './vfs/vfs.js';
export { SnapshotError } from './engine/snapshot.js';
export { Pool, PoolOverloadError, type PoolOptions } from './pool/pool.js';
export type { RunResult, RunSuccess, RunFailure, RunUsage } from './python/result.js';
export { QueueClient, QueueJobError, enqueueRun, type QueueClientOptions } from './servers/queue/client.js';
export { DEFAULT_QUEUE, RUN_JOB, SESSION_RUN_JOB } from './servers/queue/names.js';
export type { RunJobData, SessionRunJobData } from './servers/queue/protocol.js';
export { MissingPackageError } from './engine/optional-package.js';
export { DEFAULT_LIMITS, type Limits, type SandboxOptions, type Isolation } from './python/options.js';
export { Tuple, type HostValue } from './python/host-codec.js';
export type { HostFunction, HostModules } from './python/host-functions.js';
export type { NetGrant } from './python/net/allow-list.js';
export type { ImportPolicy } from './python/import-policy.js';
export type { TracebackFrame } from './python/traceback.js';
export type { OutputCallbacks } from './python/output.js';
export { setModuleSource } from './python/module-source.js';
export {
  EXIT_CODES,
  PyfenceError,
  PythonError,
  FuelExhaustedError,
  TimeoutError,
  MemoryLimitError,
  OutputLimitError,
  DeniedError,
  SandboxFaultError,
  UsageError,
  type ErrorKind,
  type RunErrorInfo,
} from './python/errors.js';
export { WasmModule, InvalidModuleError, type CompileOptions } from './guests/wasi/module.js';
export { WasmPool, type WasmPoolOptions } from './pool/wasm-pool.js';
export type { WasmRunResult, WasmErrorInfo, WasmValue } from './guests/wasi/result.js';
export { DEFAULT_WASM_LIMITS, type WasmLimits, type WasmRunOptions, type HostFunction as WasmHostFunction, type StdinReader } from './guests/wasi/options.js';
export type { Audit, AuditEvent, AuditEventKind } from './engine/audit.js';
