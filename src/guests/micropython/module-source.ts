// The interpreter module from bytes the embedder supplies, for bundlers and packagers that do not
// ship pyfence's wasm/ directory beside its code: both files are in the package (wasm/pyfence.wasm
// and wasm/manifest.json).
import { sha256Hex } from '../../core/lazy-builtins.js';
import { adoptSandboxModule, describedModule, moduleSha256, type BuildReport } from './module.js';
import { UsageError } from '../../core/errors.js';

/**
 * Uses `wasm` (the bytes of pyfence.wasm) and `manifest` (wasm/manifest.json, parsed or as text)
 * for every sandbox of this process. Call it once, before the first sandbox; the bytes must be the
 * module the manifest describes.
 */
export function setModuleSource(wasm: Uint8Array | ArrayBuffer, manifest: unknown): void {
  const bytes = wasm instanceof ArrayBuffer ? new Uint8Array(wasm) : wasm;
  if (!(bytes instanceof Uint8Array)) throw new UsageError('setModuleSource: wasm must be a Uint8Array or ArrayBuffer');
  const parsed = typeof manifest === 'string' ? JSON.parse(manifest) : manifest;
  const report = (parsed as { variants?: { metered?: BuildReport } } | null)?.variants?.metered;
  const sha256 = sha256Hex(bytes);
  if (!report || report.sha256 !== sha256) {
    throw new UsageError('setModuleSource: the manifest does not describe these bytes (use wasm/pyfence.wasm and wasm/manifest.json of this pyfence version)');
  }
  adoptSandboxModule('metered', { ...describedModule(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), bytes, 'the given module'), sha256, bytes: null });
  if (moduleSha256('metered') !== sha256) {
    throw new UsageError('setModuleSource: a module is already loaded; call it before the first sandbox');
  }
}
