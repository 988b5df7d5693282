// What a fresh page of linear memory costs on this machine: the first write to each 4 KiB page of a
// newly grown WebAssembly.Memory (a page fault and zeroing in the kernel). Why the engine recycles
// memories (src/engine/memory-pool.ts) and collects garbage before growing (build/passes/mid-run-gc.ts).
// usage: npx tsx bench/page-fault-cost.ts
const MIB = 16;
const samples: number[] = [];
for (let r = 0; r < 5; r++) {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 32768 });
  memory.grow((MIB * 1024 * 1024) / 65536);
  const bytes = new Uint8Array(memory.buffer);
  const faults = process.resourceUsage().minorPageFault;
  const t0 = performance.now();
  for (let i = 65536; i < bytes.length; i += 4096) bytes[i] = 1;
  const ms = performance.now() - t0;
  const pages = process.resourceUsage().minorPageFault - faults;
  samples.push((ms * 1000) / Math.max(1, pages));
  console.log(`touching ${MIB} MiB of fresh memory: ${ms.toFixed(1)} ms, ${pages} page faults`);
}
samples.sort((a, b) => a - b);
console.log(`median: ${samples[2].toFixed(1)} us per fresh 4 KiB page`);
