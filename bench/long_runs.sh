#!/usr/bin/env bash
# The long runs that continue over sessions, started or stopped with one command. Every run keeps its
# state outside the work tree (RUNS, default ~/gan-hub-runs) and continues exactly where it stopped
# when started again; `stop` sends SIGTERM (a 2-D group saves its whole state then; a semi-supervised
# seed continues from its last finished epoch).
#
#   bash bench/long_runs.sh start [semi] [ring] [grid]     # default: semi
#   bash bench/long_runs.sh stop
#   bash bench/long_runs.sh status
#
# semi: semi-supervised MNIST, the paper's schedule (300 epochs, 0.9999 average), seeds 0-4, one
#       process each (README, "Semi-supervised MNIST").
# ring: the published 2-D protocol on the ring, gan and pacgan2, 10 seeds each, toward 400,000 steps.
# grid: the same on the grid, gan and pacgan4.
# Needs DATA (the MNIST IDX folder) for semi; PYTHON (default: python) the project's interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-$HOME/gan-hub-runs}
PYTHON=${PYTHON:-python}
DATA=${DATA:-../shared/data/mnist}
export PYTHONPATH=.

start_semi() {
  mkdir -p "$RUNS/semi/runs"
  for seed in 0 1 2 3 4; do
    nice -n 10 "$PYTHON" bench/semi_supervised_mnist.py --data-dir "$DATA" --seeds "$seed" --epochs 300 \
      --average-decay 0.9999 --runs "$RUNS/semi/runs" --output "$RUNS/semi/seed$seed.json" \
      >>"$RUNS/semi/seed$seed.log" 2>&1 &
    echo $! >"$RUNS/semi/seed$seed.pid"
  done
}

start_modes() {  # $1: ring|grid, $2: variant, $3: name
  local dir="$RUNS/modes/long"
  mkdir -p "$dir/state" "$dir/ckpt"
  nice -n 12 "$PYTHON" bench/toy_modes.py --preset pacgan --variants "$2" --datasets "$1" --seeds 0-9 \
    --steps 400000 --eval-every 1000 --state-dir "$dir/state" --checkpoints "$dir/ckpt" \
    --json "$dir/$3.json" >>"$dir/$3.log" 2>&1 &
  echo $! >"$dir/$3.pid"
}

pids() { find "$RUNS" -name '*.pid' 2>/dev/null; }

case "${1:-status}" in
  start)
    shift
    groups=("${@:-semi}")
    for group in "${groups[@]}"; do
      case "$group" in
        semi) start_semi ;;
        ring) start_modes ring gan gan-ring; start_modes ring pacgan2 pacgan2-ring ;;
        grid) start_modes grid gan gan-grid; start_modes grid pacgan4 pacgan4-grid ;;
        *) echo "unknown group '$group': use semi, ring or grid" >&2; exit 2 ;;
      esac
    done ;;
  stop)
    for file in $(pids); do kill -TERM "$(cat "$file")" 2>/dev/null || true; rm -f "$file"; done ;;
  status)
    for file in $(pids); do
      pid=$(cat "$file")
      if kill -0 "$pid" 2>/dev/null; then echo "running  $pid  ${file%.pid}"; else echo "stopped  $pid  ${file%.pid}"; fi
    done ;;
  *) echo "usage: bash bench/long_runs.sh start [semi] [ring] [grid] | stop | status" >&2; exit 2 ;;
esac
