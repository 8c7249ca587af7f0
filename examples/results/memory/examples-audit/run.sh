#!/usr/bin/env bash
# Runs the README's example commands, each as a new user would (./examples/run.sh from the repository root, a fresh
# environment: no MALLOC_ARENA_MAX, default heap), and records for each its exit code, wall time and the peak of the
# summed resident size of its Java processes (the example's JVM and any stage JVMs it starts; Maven's build JVM left
# out), sampled every second from outside.
#
#   examples/results/memory/examples-audit/run.sh [quick|long|all] [OUT_DIR]
#
# quick: the commands that take minutes (about 40 on the 2-core machine); long: the ones that take hours.
# Writes OUT_DIR/audit.csv (one row per command) and OUT_DIR/<n>.log (each command's output). ShapedLinkBenchmark
# needs root; it is skipped (and says so in the CSV) otherwise.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
SET="${1:-quick}"
OUT="${2:-$ROOT/examples/results/memory/examples-audit}"
mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
E=io.asyncpipeline.examples

QUICK=(
  ""
  "--train 10000 --epochs 3"
  "$E.UpdaterShowcase --epochs 1"
  "$E.UpdaterShowcase"
  "$E.ScheduleTable"
  "$E.PipelineBenchmark"
  "$E.PipelineBenchmark --models mlp,cnn --examples 2048 --out $TMP/bench"
  "$E.PipelineBenchmark --models mlp,cnn --compare-parallel-wrapper --out $TMP/pw"
  "$E.ProcessBenchmark --out $TMP/process-benchmark"
  "$E.TuneDelayCorrection --stages 4 --out $TMP/tuning-p4"
  "$E.TransformerComparison --variants single --batch 64 --micro 4 --steps 300 --warmup 25 --eval-every 50"
  "$E.MemorySoak --cases transformer-stash --micro-batches 600 --every 100"
)
LONG=(
  "$E.ShapedLinkBenchmark --out $TMP/shaped-links"
  "$E.TuneDelayCorrection --stages 8 --out $TMP/tuning-p8"
  "$E.TransformerComparison --protocol updates --steps 1200 --lr 1e-3 --warmup 100 --eval-every 200 --variants gpipe-nadam,stash,nostash,pipedream,nostash-plain"
  "$E.TransformerComparison"
  "$E.MemorySoak"
)
case "$SET" in
  quick) CMDS=("${QUICK[@]}") ;;
  long) CMDS=("${LONG[@]}") ;;
  all) CMDS=("${QUICK[@]}" "${LONG[@]}") ;;
  *) echo "usage: $0 [quick|long|all] [OUT_DIR]" >&2; exit 2 ;;
esac

# the summed RSS (KiB) of the Java processes in session $1, Maven's own JVM (plexus-classworlds) left out
java_rss() {
  ps -o rss=,args= -s "$1" 2>/dev/null | awk '$2 ~ /java$/ && $0 !~ /plexus-classworlds/ {s += $1} END {print s + 0}'
}

CSV="$OUT/audit.csv"
[[ -f "$CSV" ]] || echo "command,exit_code,seconds,peak_java_rss_mb" > "$CSV"
n=$(ls "$OUT"/*.log 2>/dev/null | wc -l)
cd "$ROOT"
for args in "${CMDS[@]}"; do
  n=$((n + 1))
  shown="./examples/run.sh ${args//$TMP/DIR}"
  if [[ "$args" == *ShapedLinkBenchmark* && "$(id -u)" -ne 0 ]]; then
    echo "\"$shown\",skipped: needs root,," >> "$CSV"
    continue
  fi
  echo "== $n: $shown" | tee "$OUT/$n.log"
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 setsid ./examples/run.sh $args >> "$OUT/$n.log" 2>&1 &
  pid=$!
  peak=0
  while kill -0 "$pid" 2>/dev/null; do
    r=$(java_rss "$pid")
    (( r > peak )) && peak=$r
    sleep 1
  done
  wait "$pid"
  code=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  printf '"%s",%d,%.0f,%d\n' "$shown" "$code" "$secs" $((peak / 1024)) | tee -a "$CSV"
done
