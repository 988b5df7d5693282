// Findings F5 and F7 of security review 2 (open on 96f4678, where these cases fail): a read-only
// mount refuses every mutation by descriptor as well as by path (F5: fd_filestat_set_times changed a ro
// file's times), and a symlink renamed or linked is checked where it ends up (F7: rename and link put
// guest-made or embedder links at depths where they point out of the mount, for any host reader).
// Real modules, real host directories and symlinks.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WasmModule, type WasmRunResult } from '../src/index.js';
import { callsModule, errnosOf, OUT, type Call } from './support/wasi-calls.js';
import { tempDir } from './helpers.js';

const ROFS = 69;
const PERM = 63;
const NOTCAPABLE = 76;
const FST_ATIM_MTIM = 1 | 4;

async function runCalls(calls: Call[], mount: { host: string; mode: 'ro' | 'rw' }): Promise<{ errnos: number[]; r: WasmRunResult }> {
  const m = await WasmModule.compile(callsModule(calls));
  const r = await m.run({ mounts: [{ ...mount, guest: '/m' }] });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  return { errnos: errnosOf(r.stdout), r };
}

describe('F5: a read-only mount refuses every mutation, by descriptor as by path', () => {
  it('times through a descriptor or a path are EROFS, a descriptor with size or allocate rights is refused at open; the host file is unchanged', async () => {
    const dir = tempDir('ro');
    try {
      const file = join(dir, 'f.txt');
      fs.writeFileSync(file, 'data\n');
      const then = new Date('2020-01-01T00:00:00Z');
      fs.utimesSync(file, then, then);
      // Read, seek and set times: asking for allocate or set size too is a write, refused at open.
      const rights = 2n | 4n | (1n << 23n);
      const { errnos, r } = await runCalls(
        [
          ['path_open', 3, 0, { s: 'f.txt' }, 0, { l: rights }, { l: 0 }, 0, OUT],
          ['fd_filestat_set_times', { at: OUT }, { l: 0 }, { l: 0 }, FST_ATIM_MTIM],
          ['fd_filestat_set_size', { at: OUT }, { l: 0 }],
          ['fd_allocate', { at: OUT }, { l: 0 }, { l: 4096 }],
          ['path_filestat_set_times', 3, 0, { s: 'f.txt' }, { l: 0 }, { l: 0 }, FST_ATIM_MTIM],
          ['path_filestat_set_times', 3, 0, { s: '.' }, { l: 0 }, { l: 0 }, FST_ATIM_MTIM],
          ['fd_filestat_set_times', 3, { l: 0 }, { l: 0 }, FST_ATIM_MTIM],
          ['path_open', 3, 0, { s: 'f.txt' }, 0, { l: 2n | (1n << 22n) }, { l: 0 }, 0, OUT + 4],
        ],
        { host: dir, mode: 'ro' },
      );
      assert.deepEqual(errnos, [0, ROFS, NOTCAPABLE, NOTCAPABLE, ROFS, ROFS, ROFS, ROFS]);
      const st = fs.statSync(file);
      assert.equal(st.mtime.toISOString(), then.toISOString());
      assert.equal(st.atime.toISOString(), then.toISOString());
      assert.equal(st.size, 5);
      assert.equal(r.audit.events.filter((e) => e.kind === 'read-only').length, 5, JSON.stringify(r.audit.events));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('F7: a symlink renamed or linked must lead inside the mount from where it ends up', () => {
  /** m/ is mounted; m/file and ../file (outside) exist; m/sub/up -> ../file and m/abs_out -> /etc are the embedder's. */
  function tree(): string {
    const base = tempDir('links');
    fs.mkdirSync(join(base, 'm', 'sub', 'a', 'b'), { recursive: true });
    fs.writeFileSync(join(base, 'm', 'file'), 'in');
    fs.writeFileSync(join(base, 'file'), 'OUTSIDE-THE-MOUNT');
    fs.symlinkSync('../file', join(base, 'm', 'sub', 'up'));
    fs.symlinkSync('/etc', join(base, 'm', 'abs_out'));
    return base;
  }

  const cases: { name: string; calls: Call[]; errnos: number[]; absent?: string[]; present?: string[] }[] = [
    {
      name: 'a guest link moved nearer the root',
      calls: [['path_symlink', { s: '../../../file' }, 3, { s: 'sub/a/b/l' }], ['path_rename', 3, { s: 'sub/a/b/l' }, 3, { s: 'l' }]],
      errnos: [0, PERM],
      absent: ['m/l'],
      present: ['m/sub/a/b/l'],
    },
    { name: "an embedder's relative link hard-linked nearer the root", calls: [['path_link', 3, 0, { s: 'sub/up' }, 3, { s: 'up2' }]], errnos: [PERM], absent: ['m/up2'] },
    { name: "an embedder's absolute link hard-linked", calls: [['path_link', 3, 0, { s: 'abs_out' }, 3, { s: 'sub/abs2' }]], errnos: [PERM], absent: ['m/sub/abs2'] },
    { name: "an embedder's absolute link renamed", calls: [['path_rename', 3, { s: 'abs_out' }, 3, { s: 'sub/abs2' }]], errnos: [PERM], absent: ['m/sub/abs2'], present: ['m/abs_out'] },
    {
      name: 'a directory holding a link moved nearer the root',
      calls: [
        ['path_create_directory', 3, { s: 'sub/a/d' }],
        ['path_symlink', { s: '../../../file' }, 3, { s: 'sub/a/d/x' }],
        ['path_rename', 3, { s: 'sub/a/d' }, 3, { s: 'd' }],
      ],
      errnos: [0, 0, PERM],
      absent: ['m/d'],
      present: ['m/sub/a/d/x'],
    },
    {
      name: 'moves that keep a link inside are allowed (same depth, deeper, a directory moved deeper)',
      calls: [
        ['path_symlink', { s: '../../../file' }, 3, { s: 'sub/a/b/l' }],
        ['path_create_directory', 3, { s: 'sub/a/c' }],
        ['path_rename', 3, { s: 'sub/a/b/l' }, 3, { s: 'sub/a/c/l' }],
        ['path_link', 3, 0, { s: 'sub/up' }, 3, { s: 'sub/a/up' }],
        ['path_rename', 3, { s: 'sub/a/c' }, 3, { s: 'sub/a/b/c' }],
      ],
      errnos: [0, 0, 0, 0, 0],
      present: ['m/sub/a/b/c/l', 'm/sub/a/up'],
    },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.errnos.at(-1) === PERM ? 'refused' : 'allowed'}`, async () => {
      const base = tree();
      try {
        const { errnos, r } = await runCalls(c.calls, { host: join(base, 'm'), mode: 'rw' });
        assert.deepEqual(errnos, c.errnos);
        for (const p of c.absent ?? []) assert.equal(fs.existsSync(join(base, p)) || isLink(join(base, p)), false, `${p} was made`);
        for (const p of c.present ?? []) assert.ok(isLink(join(base, p)), `${p} is gone`);
        if (c.errnos.includes(PERM)) assert.ok(r.audit.events.some((e) => e.kind === 'symlink-target'), JSON.stringify(r.audit.events));
        // Whatever happened, no link under the mount resolves outside it.
        for (const link of linksUnder(join(base, 'm'))) {
          const target = resolveOrNull(link);
          if (target !== null && link !== join(base, 'm', 'abs_out')) assert.ok(target.startsWith(join(base, 'm') + '/'), `${link} leads to ${target}`);
        }
      } finally {
        fs.rmSync(base, { recursive: true, force: true });
      }
    });
  }
});

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function resolveOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

/** Every symlink under `dir`, never descending through one. */
function linksUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    return d.isSymbolicLink() ? [p] : d.isDirectory() ? linksUnder(p) : [];
  });
}
