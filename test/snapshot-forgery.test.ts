// Snapshots made or altered by an attacker: one who can recompute a plain checksum (so only a keyed
// snapshot stops them) and who rewrites memory, globals and files at will (so every refusal must be
// a SnapshotError and every run of what restores must end as a result).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { Sandbox, SnapshotError, UsageError } from '../src/index.js';

// The layout of format 2 (src/engine/snapshot.ts), written out here as an attacker would.
const HEADER = 16 + 4 + 32 + 4 + 4;
const FLAGS_AT = 16 + 4 + 32;

interface Opened {
  flags: number;
  meta: { memoryBytes: number; globals: Record<string, number>; sections: Record<string, unknown> };
  diff: Uint8Array;
  header: Uint8Array;
}

function open(bytes: Uint8Array): Opened {
  const body = inflateRawSync(bytes.subarray(HEADER, bytes.length - 32));
  const metaLength = body.readUInt32LE(0);
  return {
    header: bytes.slice(0, HEADER),
    flags: new DataView(bytes.buffer, bytes.byteOffset).getUint32(FLAGS_AT, true),
    meta: JSON.parse(body.subarray(4, 4 + metaLength).toString('utf8')),
    diff: new Uint8Array(body.subarray(4 + metaLength)),
  };
}

/** Re-frames `o` with a freshly computed sha256 tag: what anyone can do to an unkeyed snapshot. */
function reseal(o: Opened, flags = o.flags): Uint8Array {
  let metaText = JSON.stringify(o.meta);
  while (Buffer.byteLength(metaText) % 4) metaText += ' ';
  const meta = Buffer.from(metaText);
  const plain = Buffer.alloc(4 + meta.length + o.diff.length);
  plain.writeUInt32LE(meta.length, 0);
  meta.copy(plain, 4);
  plain.set(o.diff, 4 + meta.length);
  const body = deflateRawSync(plain);
  const out = new Uint8Array(HEADER + body.length + 32);
  out.set(o.header);
  const view = new DataView(out.buffer);
  view.setUint32(FLAGS_AT, flags, true);
  view.setUint32(HEADER - 4, body.length, true);
  out.set(body, HEADER);
  out.set(createHash('sha256').update(out.subarray(0, HEADER + body.length)).digest(), HEADER + body.length);
  return out;
}

const KEY = 'a key of thirty-two bytes, exact';
const isSnapshotError = (pattern: RegExp) => (e: unknown) => e instanceof SnapshotError && pattern.test(e.message);

async function sessionSnapshot(snapshotKey?: string): Promise<Uint8Array> {
  const sb = await Sandbox.create({ snapshotKey });
  (await sb.run('def f(n): return n * 2\nd = {"a": [1, 2, 3]}\nopen("/f", "w").write("hi")')).throwIfError();
  const bytes = await sb.snapshot();
  sb.dispose();
  return bytes;
}

describe('keyed snapshots', () => {
  it('restore with their key, and are refused without it or with another', async () => {
    const signed = await sessionSnapshot(KEY);
    const restored = await Sandbox.restore(signed, { snapshotKey: KEY });
    assert.equal((await restored.run('print(f(21), open("/f").read())')).stdout, '42 hi\n');
    // Its own snapshots are signed with the same key.
    await Sandbox.restore(await restored.snapshot(), { snapshotKey: KEY });
    restored.dispose();
    await assert.rejects(Sandbox.restore(signed), isSnapshotError(/signed with a key/));
    await assert.rejects(Sandbox.restore(signed, { snapshotKey: 'another key of 32 bytes, exactly' }), isSnapshotError(/signature mismatch/));
  });

  it('refuse an unkeyed snapshot, so a key cannot be stripped off', async () => {
    const plain = await sessionSnapshot();
    await assert.rejects(Sandbox.restore(plain, { snapshotKey: KEY }), isSnapshotError(/not signed/));
    // Claiming to be keyed while carrying a plain checksum does not help.
    await assert.rejects(Sandbox.restore(reseal(open(plain), 1), { snapshotKey: KEY }), isSnapshotError(/signature mismatch/));
  });

  it('refuse a forged change that an unkeyed restore would accept', async () => {
    const signed = await sessionSnapshot(KEY);
    const forged = open(signed);
    forged.meta.sections.files = { '/f': Buffer.from('forged').toString('base64') };
    const resealed = reseal(forged, 0); // what a forger can make: a valid plain checksum
    await assert.rejects(Sandbox.restore(resealed, { snapshotKey: KEY }), isSnapshotError(/not signed/));
    await assert.rejects(Sandbox.restore(reseal(forged), { snapshotKey: KEY }), isSnapshotError(/signature mismatch/));
    // Unkeyed, the same forgery restores: a plain checksum only catches accidents (docs/snapshots.md).
    const accepted = await Sandbox.restore(resealed);
    assert.equal((await accepted.run('print(open("/f").read())')).stdout, 'forged\n');
    accepted.dispose();
  });

  it('refuse keys too short to protect anything', async () => {
    await assert.rejects(Sandbox.create({ snapshotKey: 'short' }), UsageError);
    await assert.rejects(Sandbox.create({ snapshotKey: new Uint8Array(15) }), UsageError);
  });
});

describe('forged unkeyed snapshots', () => {
  it('either restore and run to a result, or are refused with a SnapshotError', async () => {
    const plain = await sessionSnapshot();
    const seed = Number(process.env.PYFENCE_FUZZ_SEED ?? 20261130);
    let s = seed;
    const rnd = (n: number) => Math.floor(((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * n);
    const tally: Record<string, number> = {};
    for (let i = 0; i < 120; i++) {
      const o = open(plain);
      const mode = i % 5;
      if (mode === 0) for (let j = 0; j < 1 + rnd(20); j++) o.diff[rnd(o.diff.length)] ^= 1 << rnd(8);
      if (mode === 1) {
        const at = (65536 + rnd(300_000)) & ~3;
        for (let j = 0; j < 64; j++) o.diff[at + j] ^= rnd(256);
      }
      if (mode === 2) {
        const names = Object.keys(o.meta.globals);
        o.meta.globals[names[rnd(names.length)]] = [0, -1, 2 ** 31, 1e9, 4096, 0.5, 2 ** 40][rnd(7)];
      }
      if (mode === 3) {
        const files: unknown[] = [{ '/../../etc/x': 'aGk=' }, { '': 'aGk=' }, { '/a\u0000b': 'aGk=' }, { '/f': 5 }, null, 'str', [1], { '/big': 'A'.repeat(1000) }];
        o.meta.sections.files = files[rnd(files.length)];
      }
      if (mode === 4) (o.meta as unknown as Record<string, unknown>)[['memoryBytes', 'globals', 'sections'][rnd(3)]] = [null, 'x', -65536, 1.5, []][rnd(5)];
      let outcome: string;
      try {
        const sb = await Sandbox.restore(reseal(o), { limits: { timeoutMs: 2000 } });
        const r = await sb.run('print(f(21), d, open("/f").read())');
        outcome = r.ok ? 'ran' : `result ${r.error?.kind}`;
        sb.dispose();
      } catch (e) {
        assert.ok(e instanceof SnapshotError, `seed ${seed}, case ${i} (mode ${mode}): ${(e as Error)?.stack ?? e}`);
        outcome = 'refused';
      }
      tally[outcome] = (tally[outcome] ?? 0) + 1;
    }
    // The corpus must exercise both sides, or it tests nothing.
    assert.ok(tally.refused > 10 && (tally.ran ?? 0) > 10, JSON.stringify(tally));
  });
});
