#!/usr/bin/env bash
# Runs an example end to end from a fresh checkout: installs the Fashion-MNIST Debian package if needed,
# installs the library to ~/.m2, then runs an example main with `mvn exec:java`.
#
#   ./examples/run.sh                                   # default main (exec.mainClass in examples/pom.xml)
#   ./examples/run.sh --train 10000 --epochs 3          # arguments for the default main
#   ./examples/run.sh io.asyncpipeline.examples.UpdaterShowcase --epochs 1
#   EXAMPLE_MAIN=io.asyncpipeline.examples.UpdaterShowcase ./examples/run.sh --epochs 1
#
# A first argument that looks like a class name (a.b.C) selects the main class; EXAMPLE_MAIN does too.
# OMP_NUM_THREADS defaults to 1: ND4J's OpenMP pool is slow on small or busy machines.
# Exit codes are the main's (0 success, 2 usage error, 3 data missing; --help lists them); run.sh itself exits 3
# when it cannot provide Fashion-MNIST. LOG_LEVEL=WARN (or DEBUG) sets the level of the log lines on stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MAIN="${EXAMPLE_MAIN:-}"
if [[ $# -gt 0 && "$1" =~ ^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$ ]]; then
  MAIN="$1"
  shift
fi

DATA_DIR="${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
if [[ ! -d "$DATA_DIR" ]]; then
  if [[ -n "${FASHION_MNIST_DIR:-}" ]]; then
    echo "run.sh: FASHION_MNIST_DIR=$DATA_DIR does not exist" >&2
    exit 3
  fi
  SUDO=""
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null; then
      SUDO="sudo"
    else
      echo "run.sh: $DATA_DIR is missing; as root run: apt-get update && apt-get install -y dataset-fashion-mnist" >&2
      exit 3
    fi
  fi
  echo "run.sh: $DATA_DIR missing -> ${SUDO:+$SUDO }apt-get update && ${SUDO:+$SUDO }apt-get install -y dataset-fashion-mnist"
  $SUDO apt-get update
  $SUDO apt-get install -y dataset-fashion-mnist
fi

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

# The parent pom alone (-N), then the library, so the examples module resolves both from ~/.m2.
echo "run.sh: mvn -B -q -N install && mvn -B -q -DskipTests -f dl4j-async-pipeline/pom.xml install"
mvn -B -q -N install
mvn -B -q -DskipTests -f dl4j-async-pipeline/pom.xml install

EXEC_ARGS=(-B -q -f examples/pom.xml compile exec:java)
[[ -n "$MAIN" ]] && EXEC_ARGS+=("-Dexec.mainClass=$MAIN")
[[ $# -gt 0 ]] && EXEC_ARGS+=("-Dexec.args=$*")
echo "run.sh: OMP_NUM_THREADS=$OMP_NUM_THREADS mvn ${EXEC_ARGS[*]}"
exec mvn "${EXEC_ARGS[@]}"
