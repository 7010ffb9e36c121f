"""Seeds per hour: S seeds of the published 2-D protocol trained at once in one process (seed-stacked
networks, gan_hub.nn.seeded) against the same S seeds trained one at a time, in the same run.

    python bench/seed_batching.py                       # gan on ring8-unit, 10 seeds, 100 steps each
    python bench/seed_batching.py --run unrolled --seeds 4 --steps 20

Both arms run bench/toy_protocol.train_group (data, training and scoring) on one torch thread. On a
shared machine wall time depends on the neighbours: the table gives both wall time and this
process's CPU time, and the seeds-per-hour figures use CPU time (one core fully ours).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from toy_protocol import PUBLISHED_STEPS, train_group  # noqa: E402


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default="gan")
    p.add_argument("--dataset", default="ring8-unit")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds))
    arms = {}
    wall, cpu = time.perf_counter(), time.process_time()
    for s in seeds:
        train_group(args.run, args.dataset, [s], args.steps, log=lambda *a, **k: None)
    arms["one at a time"] = (time.perf_counter() - wall, time.process_time() - cpu)
    wall, cpu = time.perf_counter(), time.process_time()
    train_group(args.run, args.dataset, seeds, args.steps, log=lambda *a, **k: None)
    arms[f"{args.seeds} at once"] = (time.perf_counter() - wall, time.process_time() - cpu)
    print(
        f"{args.run} on {args.dataset}, {args.steps} steps per seed, {args.seeds} seeds, "
        f"{torch.get_num_threads()} thread(s), torch {torch.__version__}"
    )
    print(
        "| arm | wall s | CPU s | CPU ms per seed-step | seeds per CPU-hour at this length | at the paper's 400,000 "
        "steps |"
    )
    print("|---|---|---|---|---|---|")
    for name, (wall, cpu) in arms.items():
        per = cpu / (args.seeds * args.steps)
        print(
            f"| {name} | {wall:.1f} | {cpu:.1f} | {1000 * per:.1f} | {3600 * args.seeds / cpu:.0f} "
            f"| {3600 / (per * PUBLISHED_STEPS):.3f} |"
        )
    (_, base), (_, batched) = arms.values()
    print(f"speed-up in CPU time: {base / batched:.2f}x")
    return arms


if __name__ == "__main__":
    main()
