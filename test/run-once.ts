// One program in a sandbox of its own, disposed after: what a test of a build pass needs.
import { Sandbox, type SandboxOptions } from '../src/index.js';

export async function runOnce(code: string, options?: SandboxOptions) {
  const sb = await Sandbox.create(options);
  try {
    return await sb.run(code);
  } finally {
    sb.dispose();
  }
}
