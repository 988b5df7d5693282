export { Sandbox, type RunOptions } from './api/sandbox.js';
export { SandboxFsError, type SandboxFiles, type DirEntry } from './capabilities/sandbox-fs.js';
export type { MountOptions, FsQuota } from './vfs/vfs.js';
export { SnapshotError } from './engine/snapshot.js';
export { Pool, PoolOverloadError, type PoolOptions } from './pool/pool.js';
export type { RunResult, RunSuccess, RunFailure } from './guests/python-common/result.js';
export type { RunResultBase, RunUsage } from './core/result.js';
export type { ErrorInfo } from './core/errors.js';
export { QueueClient, QueueJobError, enqueueRun, type QueueClientOptions } from './servers/queue/client.js';
export { DEFAULT_QUEUE, RUN_JOB, SESSION_RUN_JOB } from './servers/queue/names.js';
export type { RunJobData, SessionRunJobData } from './servers/queue/protocol.js';
export { MissingPackageError } from './engine/optional-package.js';
export { type SandboxOptions, type Isolation } from './api/options.js';
export { DEFAULT_LIMITS, type Limits } from './core/limits.js';
export { Tuple, type HostValue } from './capabilities/host-codec.js';
export type { HostFunction, HostModules } from './capabilities/host-functions.js';
export type { NetGrant } from './capabilities/net/allow-list.js';
export type { ImportPolicy } from './capabilities/import-policy.js';
export type { TracebackFrame } from './guests/python-common/traceback.js';
export type { OutputCallbacks } from './core/output.js';
export { setModuleSource } from './guests/micropython/module-source.js';
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
} from './core/errors.js';
export { WasmModule, InvalidModuleError, type CompileOptions } from './api/wasm-module.js';
export { WasmPool, type WasmPoolOptions } from './pool/wasm-pool.js';
export type { WasmRunResult, WasmErrorInfo, WasmValue } from './guests/wasi/result.js';
export { DEFAULT_WASM_LIMITS, type WasmLimits, type WasmRunOptions, type HostFunction as WasmHostFunction, type StdinReader } from './guests/wasi/options.js';
export type { Audit, AuditEvent, AuditEventKind } from './core/audit.js';
