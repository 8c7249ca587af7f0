#!/bin/bash
# How the extra-in-flight runs were made (2026-12-02, as root, the other jobs stopped): first e = 0, 1, 2 with the
# default 512 sequences (runs e0-1, e1-1, e2-1), then e = 2 and 1 with --sequences 1024 (e2-long, e1-long; the loop
# below is as last edited). A new user runs one of them with
#   sudo ./examples/run.sh io.asyncpipeline.examples.ShapedLinkBenchmark --rates 10 --compression-rate 10 --compressions INT8 --extra-in-flight 1 --sequences 1024
# extraInFlight at 10 Mbit/s, e = 0, 1, 2 side by side, other jobs stopped
S=/work/runs/snap13; O=/work/runs/shaped-extra; mkdir -p $O
PIDS=$(pgrep java | tr '\n' ' '); echo "$PIDS" > $O/stopped.pids; kill -STOP $PIDS
trap 'kill -CONT $(cat $O/stopped.pids)' EXIT
one() { n=$1; shift
  echo "=== $(date -u +%T) $n $*" >> $O/runs.log
  timeout 1500 env -i PATH=$PATH HOME=$HOME LANG=C.UTF-8 OMP_NUM_THREADS=1 java -cp $S/classes:$(cat $S/cp) \
    io.asyncpipeline.examples.ShapedLinkBenchmark "$@" --out $O/$n > $O/$n.log 2>&1
  echo "=== $(date -u +%T) $n rc=$?" >> $O/runs.log
}
for r in long; do
  for e in 2 1; do
    one e$e-$r --rates 10 --compression-rate 10 --compressions INT8 --extra-in-flight $e --sequences 1024
  done
done
