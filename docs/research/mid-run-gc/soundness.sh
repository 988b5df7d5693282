#!/bin/sh
# Runs the allocation-heavy programs at several GC thresholds on each variant; compare outSha to base.
cd /work/main
for p in stress misc; do
  for t in "" 4096 256; do
    for w in base spill flatco base-gc; do
      timeout 600 npx tsx docs/research/mid-run-gc/runner.ts docs/research/mid-run-gc/out/$w.wasm docs/research/mid-run-gc/progs/$p.py 256 $t 2>&1 | grep -v npm
    done
  done
done
