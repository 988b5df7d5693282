// The package's entry points as a few files instead of ~100 modules: dist/bundle/cli.js (the `pyfence`
// command) and dist/bundle/index.js (`import 'pyfence'`). Node loads an ES module graph file by file
// (resolve, read, compile, link each one), which was most of pyfence's start-up. Code that only some
// commands need (the servers, the module guest, CPython) stays in chunks loaded when first imported;
// packages from node_modules stay imports, so the MCP SDK, hono and zod load only where they did,
// except commander, which every command parses with: bundled, it skips Node's CommonJS-in-ESM
// loading (its MIT notice is in THIRD_PARTY_NOTICES), and loads node:child_process only if used.
// dist/'s own modules stay as tsc wrote them: worker threads start from them, and the bundle reads
// its resources (wasm/, guest-side Python, package.json) where those modules would.
// Run by build/finish-dist.mjs after every `tsc -p .`; esbuild is a build-time dependency only.
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
export const BUNDLE_DIR = join(DIST, 'bundle');

/**
 * Each module's `import.meta.url` becomes the URL its file in dist/ has, computed from the bundle's
 * own URL: relative paths (`new URL('../../wasm/', import.meta.url)`, sibling worker modules) then
 * find what they found before, wherever the package is installed.
 */
const moduleUrls = {
  name: 'module-urls',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!args.path.startsWith(DIST + sep) || !text.includes('import.meta.url')) return { contents: text, loader: 'js' };
      const fromBundle = relative(BUNDLE_DIR, args.path).split(sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

/** Packages the bundle contains; every other import of a package stays an import. */
const BUNDLED_PACKAGES = new Set(['commander']);

/**
 * commander requires node:child_process when loaded, for subcommands that are executables of their
 * own, which pyfence has none of: a stand-in that requires it on first use spares every command
 * loading child_process, net and dgram (about 5 ms of each start).
 */
const LAZY_CHILD_PROCESS = "module.exports = { spawn: (...args) => require('node:child_process').spawn(...args) };";

const packagesExternal = {
  name: 'packages-external',
  setup(build) {
    build.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : { path: args.path, external: true },
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({ contents: LAZY_CHILD_PROCESS, loader: 'js' }));
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

export async function bundle() {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: { cli: join(DIST, 'cli', 'main.js'), index: join(DIST, 'index.js') },
    outdir: BUNDLE_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: 'chunk-[hash]',
    // A bundled CommonJS package's require() of Node's built-in modules.
    banner: { js: "import { createRequire as __pyfenceRequire } from 'node:module'; const require = __pyfenceRequire(import.meta.url);" },
    plugins: [packagesExternal, moduleUrls],
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
