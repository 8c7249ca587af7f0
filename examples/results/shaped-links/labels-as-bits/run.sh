#!/bin/bash
# How the labels-as-bits runs were made (2026-12-02, as root): S held a copy of the built classes and classpath,
# the other jobs of the machine were stopped (SIGSTOP) for the runs. A new user runs the same with
#   sudo ./examples/run.sh io.asyncpipeline.examples.ShapedLinkBenchmark --out DIR
#   sudo ./examples/run.sh io.asyncpipeline.examples.ShapedLinkBenchmark --rates 10 --compression-rate 10 --compressions FP16,INT8 --out DIR
# shaped-link check and runs with the other jobs stopped; results in /work/runs/shaped-bits
S=/work/runs/snap12; O=/work/runs/shaped-bits
cd /work/main && mvn -B -o -q -pl dl4j-async-pipeline,examples -am test-compile > $O/compile.log 2>&1
PIDS=$(pgrep java | tr '\n' ' '); echo "$PIDS" > $O/stopped.pids; kill -STOP $PIDS
trap 'kill -CONT $(cat $O/stopped.pids)' EXIT
echo "=== $(date -u +%T) ShapedLinksTest" >> $O/runs.log
(cd /work/main && mvn -B -o -pl dl4j-async-pipeline,examples -am -Pshaped-links surefire:test -Dtest=ShapedLinksTest -Dsurefire.failIfNoSpecifiedTests=false > $O/shaped-links-test.log 2>&1)
echo "=== $(date -u +%T) ShapedLinksTest rc=$?" >> $O/runs.log
one() { # name args...
  n=$1; shift
  echo "=== $(date -u +%T) $n $*" >> $O/runs.log
  timeout 1500 env -i PATH=$PATH HOME=$HOME LANG=C.UTF-8 OMP_NUM_THREADS=1 java -cp $S/classes:$(cat $S/cp) \
    io.asyncpipeline.examples.ShapedLinkBenchmark "$@" --out $O/$n > $O/$n.log 2>&1
  echo "=== $(date -u +%T) $n rc=$?" >> $O/runs.log
}
for i in 1 2 3; do
  one run$i
  one at10-$i --rates 10 --compression-rate 10 --compressions FP16,INT8
done
