#!/usr/bin/env bash
# The runs behind the validation-loss table of "Compressed boundaries" (dl4j-async-pipeline/README.md), from the
# repository root: 4 boundary compressions x 3 seeds, 2,000 micro-batches each (about 5 minutes of a core per run).
set -euo pipefail
for seed in 11 12 13; do
  for c in NONE FP16 BF16 INT8; do
    ./examples/run.sh io.asyncpipeline.examples.TransformerComparison --protocol data --micro-batches 2000 \
      --eval-every 500 --stages 4 --layers 8 --dim 32 --context 32 --batch 8 --variants stash --replay yes \
      --tuned examples/results/paper/tuned-P4.json --seed "$seed" --boundary-compression "$c" \
      --out "examples/results/compression/$c-seed$seed"
  done
done
