export { Sandbox, type RunOptions } from './python/sandbox.js';
export { SandboxFsError, type SandboxFiles, type DirEntry } from './python/sandbox-fs.js';
export type { MountOptions, FsQuota } from './vfs/vfs.js';
export { SnapshotError } from './engine/snapshot.js';
export { Pool, PoolOverloadError, type PoolOptions } from './pool/pool.js';
export { RunResult, type RunUsage } from './python/result.js';
export { DEFAULT_LIMITS, type Limits, type SandboxOptions, type Isolation } from './python/options.js';
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
export type { WasmRunResult, WasmErrorInfo, WasmValue } from './guests/wasi/result.js';
export { DEFAULT_WASM_LIMITS, type WasmLimits, type WasmRunOptions, type HostFunction, type StdinReader } from './guests/wasi/options.js';
export type { Audit, AuditEvent, AuditEventKind } from './guests/wasi/audit.js';
