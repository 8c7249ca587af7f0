#!/usr/bin/env bash
# Runs an example end to end from a fresh checkout: installs the Fashion-MNIST Debian package if needed,
# installs the library to ~/.m2, then runs an example main in a JVM of its own (`java -cp`, the examples' runtime
# classpath from Maven).
#
#   ./examples/run.sh                                   # default main: io.asyncpipeline.examples.PipelineExample
#   ./examples/run.sh --train 10000 --epochs 3          # arguments for the default main
#   ./examples/run.sh io.asyncpipeline.examples.UpdaterShowcase --epochs 1
#   EXAMPLE_MAIN=io.asyncpipeline.examples.UpdaterShowcase ./examples/run.sh --epochs 1
#
# A first argument that looks like a class name (a.b.C) selects the main class; EXAMPLE_MAIN does too.
# OMP_NUM_THREADS defaults to 1: ND4J's OpenMP pool is slow on small or busy machines.
# Exit codes are the main's (0 success, 2 usage error, 3 data missing; --help lists them); run.sh itself exits 3
# when it cannot provide Fashion-MNIST. LOG_LEVEL=WARN (or DEBUG) sets the level of the log lines on stderr.
# JAVA_OPTS adds JVM options (e.g. JAVA_OPTS=-Xmx2g).
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

# The main runs in a JVM of its own (not inside Maven's, as `mvn exec:java` would): its memory is its own, its
# java.class.path is the examples' classpath (stage processes and MemorySoak's per-case JVMs start with it), and
# arguments reach it exactly as given.
CP_FILE="$ROOT/examples/target/run-classpath.txt"
echo "run.sh: mvn -B -q -f examples/pom.xml compile dependency:build-classpath"
mvn -B -q -f examples/pom.xml compile dependency:build-classpath -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=runtime
MAIN="${MAIN:-io.asyncpipeline.examples.PipelineExample}"
echo "run.sh: OMP_NUM_THREADS=$OMP_NUM_THREADS java ${JAVA_OPTS:-} -cp examples/target/classes:<dependencies> $MAIN $*"
# shellcheck disable=SC2086  # JAVA_OPTS holds several options
exec java ${JAVA_OPTS:-} -cp "$ROOT/examples/target/classes:$(cat "$CP_FILE")" "$MAIN" "$@"
