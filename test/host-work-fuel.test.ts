// Host work done in syscalls is paid in fuel (src/engine/host-work.ts) and meets the deadline check:
// a loop that makes the host list a huge directory stops near its time limit, deterministically.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Sandbox } from '../src/index.js';
import { HOST_WORK_FUEL } from '../src/engine/host-work.js';
import { IOV_MAX } from '../src/engine/iovecs.js';

const ENTRIES = 100_000;
const LIST_FOREVER = 'import os\nwhile True:\n    next(os.ilistdir("/d"))';

describe('fuel for host work', () => {
  let sb: Sandbox;
  before(async () => {
    sb = await Sandbox.create({ fsQuota: { files: 2 * ENTRIES }, limits: { memoryBytes: 256 << 20 } });
    const made = await sb.run(`import os\nos.mkdir("/d")\nfor i in range(${ENTRIES}):\n    os.mkdir("/d/%d" % i)`, { limits: { timeoutMs: 60_000 } });
    made.throwIfError();
  });
  after(() => sb.dispose());

  it('a loop listing a huge directory stops near the time limit', async () => {
    const r = await sb.run(LIST_FOREVER, { limits: { timeoutMs: 300 } });
    assert.equal(r.error?.kind, 'timeout');
    // One listing takes ~0.1 s here; unpaid, the deadline was seen only after hundreds of them.
    assert.ok(r.usage.wallMs < 5_000, `stopped after ${r.usage.wallMs.toFixed(0)} ms`);
  });

  it('charges each listed entry, and the fuel limit applies', async () => {
    const list = (dir: string) => `import os\nfor _ in range(2):\n    next(os.ilistdir("${dir}"))`;
    (await sb.run('import os\nos.mkdir("/empty")')).throwIfError();
    const full = await sb.run(list('/d'));
    const empty = await sb.run(list('/empty'));
    full.throwIfError();
    const extra = full.usage.fuel - empty.usage.fuel;
    assert.ok(extra >= 2 * ENTRIES * HOST_WORK_FUEL.dirEntry, `listing cost ${extra} more fuel than an empty one`);
    const capped = await sb.run(LIST_FOREVER, { limits: { fuel: 3e8 } });
    assert.equal(capped.error?.kind, 'fuel');
  });

  it('stays deterministic: the same program in fresh sandboxes uses the same fuel', async () => {
    const program = 'import os\nfor i in range(3000):\n    os.mkdir("/%d" % i)\nf = open("/f", "wb")\nf.write(bytes(5000))\nf.close()\n' +
      'for _ in range(3):\n    list(os.ilistdir("/"))\nprint(len(open("/f", "rb").read(9000)))';
    const fuels = [];
    for (let i = 0; i < 2; i++) {
      const fresh = await Sandbox.create();
      const r = await fresh.run(program);
      fresh.dispose();
      r.throwIfError();
      fuels.push(r.usage.fuel);
    }
    assert.equal(fuels[0], fuels[1]);
  });

  it('charges bytes written and read by file syscalls', async () => {
    const sb = await Sandbox.create({ limits: { memoryBytes: 128 << 20 } });
    try {
      // The same guest work either way (a memoryview, no copy in the guest): only the host's differs.
      const io = (n: string) =>
        `m = memoryview(bytes(1 << 20))\nf = open("/b", "wb")\nfor _ in range(32):\n    f.write(${n})\nf.close()\n` +
        `f = open("/b", "rb")\nbuf = bytearray(1 << 20)\nfor _ in range(32):\n    f.readinto(memoryview(buf)[:len(${n})])`;
      const small = await sb.run(io('m[:1]'));
      const big = await sb.run(io('m'));
      small.throwIfError();
      big.throwIfError();
      const bytes = 32 << 20;
      const least = 0.95 * bytes * (HOST_WORK_FUEL.writeByte + HOST_WORK_FUEL.readByte);
      assert.ok(big.usage.fuel - small.usage.fuel >= least, `${big.usage.fuel} - ${small.usage.fuel} < ${least}`);
    } finally {
      sb.dispose();
    }
  });

  it('charges each byte of a host-channel request, so a loop resending a large one meets the fuel limit', async () => {
    const sb = await Sandbox.create({ modules: { m: { f: () => 1 } }, limits: { memoryBytes: 64 << 20 } });
    try {
      (await sb.run(`s = '["m", "nothere", ["' + 'x' * (4 << 20) + '"], null]'`)).throwIfError();
      (await sb.run('import gc\ngc.collect()')).throwIfError(); // the garbage of building s, collected now
      const calls = (n: number) => sb.run(`for _ in range(${n}):\n    __pyfence__.chan(s)`);
      const one = await calls(1);
      const five = await calls(5);
      assert.ok(five.usage.fuel - one.usage.fuel >= 4 * (4 << 20) * HOST_WORK_FUEL.channelByte, `${five.usage.fuel} - ${one.usage.fuel}`);
      const r = await sb.run('while True:\n    __pyfence__.chan(s)', { limits: { fuel: 2e8, timeoutMs: 5_000 } });
      assert.equal(r.error?.kind, 'fuel');
    } finally {
      sb.dispose();
    }
  });
});

describe('buffers of one read or write (the Emscripten syscalls both interpreters use)', () => {
  it('more than IOV_MAX buffers is EINVAL before any is read; IOV_MAX is served', async () => {
    // Unbounded, 8 million empty buffers in one os.writev kept the host busy 2.4 s for no fuel.
    const sb = await Sandbox.create({ engine: 'cpython' });
    const r = await sb.run(`
import errno, os
fd = os.open("/f", os.O_WRONLY | os.O_CREAT)
print(os.writev(fd, [b"x"] * ${IOV_MAX}))
try:
    os.writev(fd, [b""] * 100_000)
except OSError as e:
    print(e.errno == errno.EINVAL)
os.close(fd)
fd = os.open("/f", os.O_RDONLY)
print(os.readv(fd, [bytearray(1)] * ${IOV_MAX}))
try:
    os.readv(fd, [bytearray(1)] * ${IOV_MAX + 1})
except OSError as e:
    print(e.errno == errno.EINVAL)
`);
    sb.dispose();
    assert.equal(r.stdout, `${IOV_MAX}\nTrue\n${IOV_MAX}\nTrue\n`, r.error?.traceback ?? '');
  });
});
