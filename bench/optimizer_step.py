"""What the authors' Adam costs: one optimizer step of ``adam-eps-in-sqrt`` (gan_hub/optim.py, eps under the
square root, written with torch's foreach ops) against torch's fused Adam, on the parameters of the
semi-supervised variant's MNIST networks, in the same run.

    python bench/optimizer_step.py                    # one thread, 50 steps a round, 5 rounds
    python bench/optimizer_step.py --threads 2 --rounds 9

The two optimizers take their rounds in turn (so a change in machine load hits both alike) on the same
parameters and gradients; the table gives each one's median milliseconds per step and the median of the
per-round ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gan_hub.archs.semi_supervised import SemiSupervisedDiscriminator, SemiSupervisedGenerator  # noqa: E402
from gan_hub.optim import build_optimizer  # noqa: E402

KINDS = ("adam", "adam-eps-in-sqrt")


def networks() -> dict[str, torch.nn.Module]:
    return {
        "D": SemiSupervisedDiscriminator(channels=1, image_size=28, d_classes=10),
        "G": SemiSupervisedGenerator(latent_dim=100, channels=1, image_size=28),
    }


def time_round(optimizer: torch.optim.Optimizer, steps: int) -> float:
    started = time.perf_counter()
    for _ in range(steps):
        optimizer.step()
    return (time.perf_counter() - started) / steps * 1e3


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=50, help="optimizer steps per round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.steps} steps x {args.rounds} rounds\n")
    print("| network | parameters | torch Adam (fused) ms/step | adam-eps-in-sqrt ms/step | ratio |")
    print("|---|---|---|---|---|")
    for name, net in networks().items():
        params = [p for p in net.parameters() if p.requires_grad]
        for param in params:
            param.grad = torch.randn_like(param) * 1e-4
        optimizers = {kind: build_optimizer(kind, params, 3e-3, (0.5, 0.999)) for kind in KINDS}
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for optimizer in optimizers.values():
            optimizer.step()  # allocates the moment buffers outside the timing
        for _ in range(args.rounds):
            for kind, optimizer in optimizers.items():
                times[kind].append(time_round(optimizer, args.steps))
        ratio = statistics.median(b / a for a, b in zip(times["adam"], times["adam-eps-in-sqrt"]))
        count = sum(param.numel() for param in params)
        adam, ours = (statistics.median(times[kind]) for kind in KINDS)
        print(f"| {name} | {count / 1e6:.2f} M | {adam:.2f} | {ours:.2f} | {ratio:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
