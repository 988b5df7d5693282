// The package's entry points as a few files instead of ~100 modules. Node loads an ES module graph
// file by file (resolve, read, compile, link each one), which was most of pyfence's start-up.
//  - dist/bundle/index.js (`import 'pyfence'`): an ES module; code that only some uses need (the
//    servers, the module guest, CPython) stays in chunks loaded when first imported.
//  - dist/bundle/cli-main.cjs (the `pyfence` command, main.ts): one CommonJS file, written as the
//    function expression Node's loader would wrap it in, which dist/bundle/cli.cjs (the bin,
//    launcher.ts) compiles and calls with a V8 code cache (src/cli/code-cache.ts).
//    A CommonJS program also skips Node's ES module loader (about 10 built-in modules of its own,
//    fs/promises and readline among them). Code some commands need is still run only when imported.
// Packages from node_modules stay imports, so the MCP SDK, hono and zod load only where they did,
// except commander, which every command parses with: bundled, it skips Node's CommonJS-in-ESM
// loading (its MIT notice is in THIRD_PARTY_NOTICES). Node's built-in modules load on first use.
// dist/'s own modules stay as tsc wrote them: worker threads start from them, and the bundle reads
// its resources (wasm/, guest-side Python, package.json) where those modules would.
// Run by build/finish-dist.mjs after every `tsc -p .`; esbuild is a build-time dependency only.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const DIST = join(ROOT, 'dist');
export const BUNDLE_DIR = join(DIST, 'bundle');

/**
 * Each module's `import.meta.url` becomes the URL its file in dist/ has, computed from the bundle's
 * own URL (`base`, an expression): relative paths (`new URL('../../wasm/', import.meta.url)`, sibling
 * worker modules) then find what they found before, wherever the package is installed.
 */
function moduleUrls(base) {
  return {
    name: 'module-urls',
    setup(build) {
      build.onLoad({ filter: /\.js$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!args.path.startsWith(DIST + sep) || !text.includes('import.meta.')) return { contents: text, loader: 'js' };
        const fromBundle = relative(BUNDLE_DIR, args.path).split(sep).join('/');
        const contents = text
          .replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, ${base}).href`)
          .replaceAll('import.meta.resolve(', base === ESM_BASE ? 'import.meta.resolve(' : '__pyfenceResolve(');
        return { contents, loader: 'js' };
      });
    },
  };
}
const ESM_BASE = 'import.meta.url';
const CJS_BASE = '__pyfenceFileUrl';
/**
 * What a CommonJS file has for `import.meta`: its own URL, and a resolver (CommonJS resolution: the
 * packages it checks for, binaryen, bullmq, ioredis, the MCP SDK, all have a CommonJS or default entry).
 */
const CJS_BANNER = `const __pyfenceFileUrl = require("node:url").pathToFileURL(__filename).href;
const __pyfenceResolve = (specifier) => require("node:url").pathToFileURL(require.resolve(specifier)).href;`;

/** The parameters Node gives a CommonJS module (src/cli/code-cache.ts passes them). */
export const CJS_FUNCTION_HEAD = '(function (exports, require, module, __filename, __dirname) {';

/** Packages the bundle contains; every other import of a package stays an import. */
const BUNDLED_PACKAGES = new Set(['commander']);

/**
 * Node's built-in modules, as the bundle imports them: each through `require` (CommonJS), its
 * exports getters that load it on first use. An ES module import of a built-in builds its namespace
 * by reading every export, which runs the lazy ones too: `node:fs` alone then loaded fs/promises,
 * readline, fs streams and watchers. And a module a command imports but the run never uses
 * (worker_threads, os, perf_hooks, child_process behind commander, net and dgram) is not loaded at
 * all. A built-in whose exports are a function or class (events, assert) is required as it is: a
 * class cannot be a set of getters. Export names are those of the Node that builds; the code was
 * type-checked against them.
 */
function lazyBuiltinSource(name) {
  const exports = require(name);
  if (typeof exports === 'function') return `module.exports = require(${JSON.stringify(name)});`;
  const keys = Object.keys(exports).filter((k) => k !== 'default');
  return `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(name)}));
for (const key of ${JSON.stringify(keys)}) {
  Object.defineProperty(module.exports, key, { enumerable: true, get: () => load()[key], set: (value) => { load()[key] = value; } });
}`;
}

const BUILTINS = new Set(builtinModules);

/**
 * Packages stay imports (but BUNDLED_PACKAGES); built-ins reach their lazy stand-ins, or, with
 * `standIns` false, are required where imported (for the launcher, whose few built-ins Node has
 * loaded before any program runs, but node:vm, which it uses at once: the stand-ins' getters, three
 * per export, cost it ~2 ms and a few hundred KB of young allocation).
 */
const packagesExternal = ({ standIns }) => ({
  name: 'packages-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      const bare = args.path.replace(/^node:/, '');
      if (BUILTINS.has(bare) && !standIns) return { path: `node:${bare}`, external: true };
      // Imports of a built-in reach its stand-in through one ES module that re-exports it: every
      // importer then shares that module's exports, where importing the CommonJS stand-in itself
      // had each importer copy all of its exports (esbuild's __toESM: ~2,000 getters made at start
      // for node:fs's 20 importers). The stand-in's own require of the built-in stays a require.
      if (BUILTINS.has(bare)) {
        if (args.namespace === 'lazy-builtin') return { path: args.path, external: true };
        const viaExports = args.kind !== 'require-call' && args.namespace !== 'builtin-exports'; // a require takes the stand-in as it is
        return { path: `node:${bare}`, namespace: viaExports ? 'builtin-exports' : 'lazy-builtin' };
      }
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true };
    });
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({ contents: lazyBuiltinSource(args.path), loader: 'js' }));
    build.onLoad({ filter: /.*/, namespace: 'builtin-exports' }, (args) => ({ contents: `export * from ${JSON.stringify(args.path)};`, loader: 'js' }));
  },
});

const COMMON = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' };
/** What the command's files are read and parsed as on every run: no whitespace, identifiers kept. */
const COMPACT = { minifyWhitespace: true, minifySyntax: true };

export async function bundle() {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  await esbuild.build({
    ...COMMON,
    entryPoints: { index: join(DIST, 'index.js') },
    outdir: BUNDLE_DIR,
    splitting: true,
    format: 'esm',
    chunkNames: 'chunk-[hash]',
    // The built-in modules' stand-ins' require().
    banner: { js: "import { createRequire as __pyfenceRequire } from 'node:module'; const require = __pyfenceRequire(import.meta.url);" },
    plugins: [packagesExternal({ standIns: true }), moduleUrls(ESM_BASE)],
  });
  const main = join(BUNDLE_DIR, 'cli-main.cjs');
  // ASCII only (esbuild's default charset): the launcher reads it as latin1. Every command reads the
  // whole text before running (V8 compiles from it what its code cache lacks), so it carries no
  // whitespace or dead syntax: 440 KB where it was 660, ~120 fewer page faults (~14 us each here)
  // for the read and the string. Names are kept, so an internal error's stack still says where.
  await esbuild.build({ ...COMMON, ...COMPACT, entryPoints: [join(DIST, 'cli', 'main.js')], outfile: main, format: 'cjs', charset: 'ascii', banner: { js: CJS_BANNER }, plugins: [packagesExternal({ standIns: true }), moduleUrls(CJS_BASE)] });
  // Written as the function Node's CommonJS loader would wrap it in, so the launcher compiles the
  // text as read: wrapping it there made two more copies of ~630 KB (and a garbage collection).
  const commonJs = readFileSync(main, 'latin1').replace(/^#!.*\n/, '');
  writeFileSync(main, `${CJS_FUNCTION_HEAD}${commonJs}\n})`, 'latin1');
  const build = createHash('sha256').update(readFileSync(main)).digest('hex');
  await esbuild.build({
    ...COMMON,
    ...COMPACT, // compiled afresh by every command: it has no code cache
    entryPoints: [join(DIST, 'cli', 'launcher.js')],
    outfile: join(BUNDLE_DIR, 'cli.cjs'),
    format: 'cjs',
    banner: { js: CJS_BANNER },
    define: { PYFENCE_CLI_BUILD: JSON.stringify(build) },
    plugins: [packagesExternal({ standIns: false }), moduleUrls(CJS_BASE)],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundle();
