#!/usr/bin/env bash
# interleaved PipelineBenchmark: B = library of 3dfd756 (before PassArrays), A = with PassArrays; same example classes
cd /tmp/bench9
for tag in B1 A1 A2 B2 B3 A3; do
  case $tag in B*) jar=/tmp/snapB/lib.jar;; A*) jar=/tmp/snapA/lib.jar;; esac
  cp=$(tr ':' '\n' < /tmp/snap4/cp.txt | sed "s#^/tmp/snap[^/]*/lib.jar#$jar#" | paste -sd:)
  s=$(date +%s)
  env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 OMP_NUM_THREADS=1 PROGRESS=off java -cp /tmp/snap6/classes:$cp \
      io.asyncpipeline.examples.PipelineBenchmark --models mlp --examples 4096 > $tag-mlp.log 2>&1
  env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 OMP_NUM_THREADS=1 PROGRESS=off java -cp /tmp/snap6/classes:$cp \
      io.asyncpipeline.examples.PipelineBenchmark --models cnn --examples 1024 > $tag-cnn.log 2>&1
  echo "wall $(( $(date +%s) - s )) s, library $jar" >> $tag-cnn.log
done
echo done > /tmp/bench9/done
