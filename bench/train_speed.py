"""The trainer's overhead: ``python -m train``'s step loop against a plain PyTorch loop, in the same run.

    python bench/train_speed.py                                   # dcgan and wgan-gp on MNIST, batch 64
    python bench/train_speed.py --variants dcgan --steps 40 --rounds 5 --threads 2
    python bench/train_speed.py --data-dir /path/to/mnist --json results.json
    python bench/train_speed.py --compile                         # also the trainer with torch.compile'd networks
    python bench/train_speed.py --mixed-precision bf16 --compile  # on a GPU: bf16 autocast in both loops

Both loops run on the device accelerate picks (a GPU when there is one) and train the same networks from the same
initial weights with the same objective, optimizer,
learning rates, critic steps and batch size, on the same data, in one process. The trainer's loop is
``Trainer.train``'s body (accelerate's prepared loader, models and optimizers, the variant's algorithm,
techniques, EMA, the logs). The plain loop is what one writes by hand: the dataset kept as a uint8
tensor on the device, a shuffled index per epoch, the losses written out, two ``torch.optim`` optimizers.
A step is one discriminator batch (the generator steps every ``n_critic``-th), as in the trainer.

Timing: ``--rounds`` rounds of ``--steps`` steps per loop (after ``--warmup`` untimed ones), the two
loops taking single steps in turn, so a change in machine load hits both alike; the table shows each
loop's median steps/s (wall clock), the median of the per-round ratios, and the same ratio in steps
per CPU second of the process (steadier on a shared machine).

``--compile`` adds a third loop in the same turns: a second trainer (same config, same initial weights)
whose generator and discriminator are compiled in place (``nn.Module.compile()``, inductor; on a CPU it
builds C++, so it needs a C++ compiler). Its first steps compile (and recompile once the generator's step
freezes the discriminator); the table gives its steps/s after them (the rounds), its steps/s over the
whole run including them, the seconds its warm-up steps took, and its ratio to the eager trainer.
Inductor's cache starts empty (a temporary ``TORCHINDUCTOR_CACHE_DIR`` unless one is set), so the compile
times are those of a first run.

``--mixed-precision bf16`` runs every loop under bf16 autocast: the trainers through accelerate (the
trainer's own ``mixed_precision`` option), the plain loop with ``torch.autocast`` around its forwards and
losses. Meant for a GPU (on a CPU it works, but bf16 kernels are slow there).

MNIST from ``--data-dir`` (IDX files); without one, the built-in synthetic set of the same shape.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from bench.semi_supervised_mnist import cpu_name  # noqa: E402
from gan_hub.data import load_dataset  # noqa: E402
from gan_hub.hub import build_discriminator_network, build_generator_network  # noqa: E402
from train.config import TrainConfig  # noqa: E402
from train.trainer import Trainer  # noqa: E402

SHARED_MNIST = Path("/work/shared/data/mnist")
DOUBLE_BACKWARD = ("gradient_penalty", "consensus")  # techniques that differentiate D's gradient
PLAIN_LOSSES = ("non-saturating", "wasserstein")  # objectives the plain loop writes out (dcgan, wgan-gp)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument(
        "--variants",
        default="dcgan,wgan-gp",
        help="comma-separated; their objective must be one of " + ", ".join(PLAIN_LOSSES),
    )
    p.add_argument(
        "--data-dir",
        default=str(SHARED_MNIST) if SHARED_MNIST.is_dir() else None,
        help="MNIST IDX files; none: the synthetic set",
    )
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=30, help="timed steps per round and loop")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps per loop before the first round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument(
        "--compile", action="store_true", help="also time the trainer with torch.compile'd networks (inductor)"
    )
    p.add_argument(
        "--mixed-precision", choices=("no", "bf16"), default="no", help="bf16: autocast in every loop (for a GPU)"
    )
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    return p.parse_args(argv)


class PlainLoop:
    """The hand-written loop: same networks (copied from the trainer's initial weights), losses written out."""

    def __init__(self, trainer: Trainer, dataset, device: torch.device, bf16: bool = False):
        cfg = trainer.gen_config
        self.autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
        self.objective = trainer.objective.name
        if self.objective not in PLAIN_LOSSES:
            raise SystemExit(
                f"{cfg.variant}: the plain loop writes out {', '.join(PLAIN_LOSSES)} only, not {self.objective}"
            )
        self.penalty = trainer.settings["techniques"].get("gradient_penalty")
        self.penalty_weight = float(self.penalty["weight"] if isinstance(self.penalty, dict) else self.penalty or 0)
        unwrap = trainer.accelerator.unwrap_model
        self.G = build_generator_network(cfg).to(device)
        self.D = build_discriminator_network(cfg).to(device)
        self.G.load_state_dict(unwrap(trainer.G).state_dict())
        self.D.load_state_dict(unwrap(trainer.D).state_dict())
        self.G.train(), self.D.train()
        optimizer = trainer.settings["optimizer"]
        opt = torch.optim.Adam if optimizer == "adam" else torch.optim.RMSprop
        kwargs = {"betas": tuple(trainer.settings["betas"])} if optimizer == "adam" else {}
        self.opt_g = opt(self.G.parameters(), lr=trainer.base_lr_g, **kwargs)
        self.opt_d = opt(self.D.parameters(), lr=trainer.base_lr_d, **kwargs)
        self.images = dataset.images.to(device)  # uint8, converted per batch on the device
        self.latent_dim, self.batch, self.n_critic, self.device = (
            cfg.latent_dim,
            trainer.batch_size,
            trainer.n_critic,
            device,
        )
        self.step, self.order, self.cursor = 0, torch.empty(0, dtype=torch.long), 0

    def next_batch(self) -> torch.Tensor:
        if self.cursor + self.batch > len(self.order):
            self.order, self.cursor = torch.randperm(len(self.images), device=self.device), 0
        index = self.order[self.cursor : self.cursor + self.batch]
        self.cursor += self.batch
        return self.images[index].float().div_(127.5).sub_(1.0)

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        real_logits, fake_logits = self.D(real, None), self.D(fake, None)
        if self.objective == "non-saturating":
            loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        else:
            loss = fake_logits.mean() - real_logits.mean()
        if self.penalty_weight:
            eps = torch.rand(len(real), 1, 1, 1, device=self.device)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(self.D(x_hat, None).sum(), x_hat, create_graph=True)
            loss = loss + self.penalty_weight * ((grad.flatten(1).pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
        return loss

    def train_step(self) -> None:
        real = self.next_batch()
        with torch.no_grad(), self.autocast():
            fake = self.G(torch.randn(self.batch, self.latent_dim, device=self.device), None)
        self.opt_d.zero_grad(set_to_none=True)
        with self.autocast():
            d_loss = self.d_loss(real, fake)
        d_loss.backward()
        self.opt_d.step()
        self.step += 1
        if self.step % self.n_critic:
            return
        self.D.requires_grad_(False)
        with self.autocast():
            fake_logits = self.D(self.G(torch.randn(self.batch, self.latent_dim, device=self.device), None), None)
            g_loss = F.softplus(-fake_logits).mean() if self.objective == "non-saturating" else -fake_logits.mean()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)


class TrainerLoop:
    """``Trainer.train``'s loop body: the next batch from the prepared loader, ``train_step``, the step count."""

    def __init__(self, trainer: Trainer):
        self.trainer, self.batches = trainer, trainer.batches()

    def train_step(self) -> None:
        real, labels = next(self.batches)
        self.trainer.last_logs = self.trainer.train_step(real, labels)
        self.trainer.step += 1


def check_compile() -> float:
    """Compile and run a tiny function; exit with the reason if inductor cannot work here. Returns the seconds
    it took (inductor's one-time start-up, kept out of the per-variant figures)."""
    start = time.perf_counter()
    try:
        torch.compile(lambda x: torch.relu(x) * 2)(torch.randn(4))
    except Exception as err:
        raise SystemExit(
            f"--compile: torch.compile (inductor) does not work here: {type(err).__name__}: {err}\n"
            "On a CPU inductor builds C++ kernels: it needs a C++ compiler (g++ or clang++ on PATH, or $CXX)."
        ) from None
    return time.perf_counter() - start


def compiled_trainer(cfg: TrainConfig) -> tuple[Trainer, str]:
    """A trainer like the bench's (same config, so the same initial weights) with its networks compiled in
    place (the modules stay the same objects: unwrap, EMA and state dicts are unchanged), and which ones.
    torch.compile has no double backward, which penalties on D's input gradient need: then D stays eager."""
    trainer = Trainer(dataclasses.replace(cfg, output_dir=cfg.output_dir + "-compiled"))
    trainer.G.compile()
    if any(trainer.settings["techniques"].get(name) for name in DOUBLE_BACKWARD):
        return trainer, "G (D: double backward)"
    trainer.D.compile()
    return trainer, "G, D"


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(loops: dict, steps: int, device: torch.device) -> dict[str, tuple[float, float]]:
    """Steps of the loops in turn, one at a time; per loop (steps/s of wall time, steps per CPU second)."""
    wall = dict.fromkeys(loops, 0.0)
    cpu = dict.fromkeys(loops, 0.0)
    for _ in range(steps):
        for name, loop in loops.items():
            synchronize(device)
            start, start_cpu = time.perf_counter(), time.process_time()
            loop.train_step()
            synchronize(device)
            wall[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - start_cpu
    return {name: (steps / wall[name], steps / cpu[name]) for name in loops}


def bench_variant(variant: str, args, run_dir: Path) -> dict:
    dataset_name = "mnist" if args.data_dir else "synthetic"
    cfg = TrainConfig(
        variant=variant,
        dataset=dataset_name,
        data_dir=args.data_dir or None,
        batch_size=args.batch_size,
        output_dir=str(run_dir / variant),
        max_steps=10**9,
        eval_samples=0,
        seed=0,
        mixed_precision=args.mixed_precision,
    )
    trainer = Trainer(cfg)
    device = trainer.accelerator.device
    loops = {
        "trainer": TrainerLoop(trainer),
        "plain": PlainLoop(
            trainer, load_dataset(dataset_name, args.data_dir, train=True), device, args.mixed_precision == "bf16"
        ),
    }
    if args.compile:
        trainer_compiled, networks_compiled = compiled_trainer(cfg)
        loops["compiled"] = TrainerLoop(trainer_compiled)
    try:
        warmup = interleaved(loops, args.warmup, device)
    except Exception as err:
        if not args.compile:
            raise
        raise SystemExit(f"--compile: {variant}: the compiled trainer failed: {type(err).__name__}: {err}") from None
    rounds = [interleaved(loops, args.steps, device) for _ in range(args.rounds)]
    rates = {name: [r[name][0] for r in rounds] for name in loops}
    cpu_rates = {name: [r[name][1] for r in rounds] for name in loops}
    compiled = {}
    if args.compile:
        warmup_seconds = args.warmup / warmup["compiled"][0]
        timed_seconds = sum(args.steps / rate for rate in rates["compiled"])
        compiled = {
            "compiled_networks": networks_compiled,
            "compiled_steps_per_s": statistics.median(rates["compiled"]),
            "compiled_steps_per_s_with_compile": (args.warmup + args.rounds * args.steps)
            / (warmup_seconds + timed_seconds),
            "compiled_warmup_s": warmup_seconds,
            "compiled_ratio": statistics.median(c / t for c, t in zip(rates["compiled"], rates["trainer"])),
        }
    return {
        "variant": variant,
        "dataset": dataset_name,
        "batch_size": trainer.batch_size,
        "n_critic": trainer.n_critic,
        "device": str(device) + (" bf16" if args.mixed_precision == "bf16" else ""),
        "trainer_steps_per_s": statistics.median(rates["trainer"]),
        "plain_steps_per_s": statistics.median(rates["plain"]),
        "ratio": statistics.median(t / p for t, p in zip(rates["trainer"], rates["plain"])),
        "cpu_ratio": statistics.median(t / p for t, p in zip(cpu_rates["trainer"], cpu_rates["plain"])),
        "rounds": rates,
        "rounds_per_cpu_second": cpu_rates,
        **compiled,
    }


def table(results: list[dict]) -> str:
    lines = [
        (
            "| variant | data | batch | device | trainer steps/s | plain steps/s | trainer / plain | same, CPU time "
            "| trainer images/s |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['variant']} | {r['dataset']} | {r['batch_size']} | {r['device']} | "
            f"{r['trainer_steps_per_s']:.2f} | {r['plain_steps_per_s']:.2f} | {r['ratio']:.3f}x | "
            f"{r['cpu_ratio']:.3f}x | {r['trainer_steps_per_s'] * r['batch_size']:.0f} |"
        )
    if any("compiled_steps_per_s" in r for r in results):
        lines += [
            "",
            "| variant | compiled | compiled steps/s | compiled / trainer | compiled steps/s incl. compile "
            "| warm-up steps took |",
            "|---|---|---|---|---|---|",
        ]
        for r in results:
            lines.append(
                f"| {r['variant']} | {r['compiled_networks']} | {r['compiled_steps_per_s']:.2f} | "
                f"{r['compiled_ratio']:.3f}x | {r['compiled_steps_per_s_with_compile']:.2f} | "
                f"{r['compiled_warmup_s']:.1f} s |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="train-speed-") as tmp:
        # a fresh inductor cache unless one is given: the compile times are those of a first run
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(Path(tmp) / "inductor-cache"))
        startup = check_compile() if args.compile else None
        results = [bench_variant(v.strip(), args, Path(tmp)) for v in args.variants.split(",") if v.strip()]
    print(table(results))
    print(
        f"\n{args.rounds} rounds x {args.steps} steps per loop, taken in turn (after {args.warmup} warm-up steps); "
        f"medians. "
        f"CPU: {cpu_name()}, torch {torch.__version__}, {torch.get_num_threads()} threads."
    )
    if startup is not None:
        print(
            f"--compile: inductor's one-time start-up (a tiny function compiled first) took {startup:.1f} s; "
            f"'incl. compile' counts the {args.warmup} warm-up steps and the rounds."
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"results": results, "cpu": cpu_name(), "torch": torch.__version__, "threads": torch.get_num_threads()},
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
