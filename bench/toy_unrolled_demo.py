"""Unrolled GAN in its authors' own 2-D setting (the demo notebook of poolio/unrolled_gan, by Metz and
Poole), next to the same game without unrolling, scored with the published protocol's definitions:

    python bench/toy_unrolled_demo.py --seeds 0-4 --json runs/unrolled_demo.json
    python bench/toy_unrolled_demo.py --from-json runs/unrolled_demo.json      # the table again

Setting (the notebook's): the ring of 8 Gaussians of radius 1 and std 0.01, a fresh batch of 512 each
step; z 256-D standard normal; G and D 2 x 128 tanh (``tanh-mlp``), orthogonal weights of gain 1.4;
the minimax game (G minimises -L_D at the unrolled D, the notebook's ``-unrolled_loss``); Adam with lr
1e-3 for G and 1e-4 for D, beta1 0.5, eps 1e-8; 25,000 steps; k = 5 unrolled steps of D's own Adam.
The ``gan`` row is the same run with k = 0 (the notebook's plain GAN). The ring has 8 distinct modes
(the notebook's ``linspace(0, 2 pi, 8)`` puts two on top of each other, so it has 7). ``--update``
chooses the step: ``alternating`` (default) is the project trainer's (D, then G against the updated
D, each with its own latents); ``simultaneous`` is the notebook's (one session call runs both
updates: both gradients at the same weights, from the same batch and latents, then both steps).

Scores on 2,500 samples of the final G (VEEGAN's definitions, gan_hub.metrics.modes.protocol_coverage):
modes captured, high-quality share, reverse KL, the strict modes covered; mean +/- standard error over
seeds, with the mode count curve every ``--eval-every`` steps.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from toy_figures import mean_se  # noqa: E402
from toy_protocol import curve_point  # noqa: E402

from gan_hub.data.images import DatasetInfo  # noqa: E402
from gan_hub.data.toy2d import mixture  # noqa: E402
from gan_hub.hub import build_discriminator_network, build_generator_network  # noqa: E402
from gan_hub.io import atomic_write_text  # noqa: E402
from gan_hub.metrics.modes import PROTOCOL_SAMPLES, PROTOCOL_SEED, protocol_coverage  # noqa: E402
from gan_hub.variants.base import StepContext  # noqa: E402
from train.compose import compose  # noqa: E402
from train.config import TrainConfig  # noqa: E402
from train.step import Players, alternating_step  # noqa: E402

DATASET, LATENT, BATCH, STEPS, UNROLL = "ring8-unit", 256, 512, 25_000, 5
ROWS = {"gan": 0, "unrolled": UNROLL}  # row name -> unrolled steps
ANCHOR = "VEEGAN's table, unrolled GAN on the ring: 7.6 modes, 35.6 % high quality; issue target >= 7 / 8"


def compose_demo(unroll_steps: int):
    return compose(
        TrainConfig(
            variant="unrolled",
            dataset=DATASET,
            arch="tanh-mlp",
            objective="minimax",
            latent_dim=LATENT,
            batch_size=BATCH,
            lr_g=1e-3,
            lr_d=1e-4,
            beta1=0.5,
            ema_decay=0,
            variant_options={"unroll_steps": unroll_steps, "unroll_optimizer": "adam"},
        )
    )


def score(generator) -> dict:
    generator.eval()
    with torch.no_grad():
        z = torch.randn(PROTOCOL_SAMPLES, LATENT, generator=torch.Generator().manual_seed(PROTOCOL_SEED))
        points = generator(z)
    generator.train()
    return protocol_coverage(points, DATASET) | {"points": points[:500].tolist()}


def simultaneous_step(players: Players, real: torch.Tensor, z: torch.Tensor, ctx: StepContext) -> None:
    """Both players' gradients at the current weights (G's unroll starts from D's weights and Adam state
    before this step's update), then both updates: the notebook's ``sess.run([..., g_train_op, d_train_op])``."""
    p = players
    d_loss, _ = p.algorithm.discriminator_loss(p.generator, p.discriminator, real, None, z, ctx)
    d_loss.backward()
    p.discriminator.requires_grad_(False)  # D's gradient is already in .grad; G's loss adds none to it
    try:
        g_loss, _ = p.algorithm.generator_loss(p.generator, p.discriminator, z, None, real, ctx)
        g_loss.backward()
    finally:
        p.discriminator.requires_grad_(True)
    for optimizer in (p.opt_d, p.opt_g):
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)


def build_players(row: str, seed: int) -> Players:
    resolved = compose_demo(ROWS[row])
    torch.manual_seed(seed)
    config = resolved.model_config(DatasetInfo(DATASET, channels=2, image_size=0))
    generator, discriminator = build_generator_network(config), build_discriminator_network(config)
    resolved.algorithm.setup(generator, discriminator)
    opt = resolved.optimizer
    return Players(
        generator,
        discriminator,
        opt.build(generator.parameters(), opt.lr_g),
        opt.build(discriminator.parameters(), opt.lr_d),
        resolved.algorithm,
        1,
    )


def train_seed(row: str, seed: int, steps: int, eval_every: int, log=print, update: str = "alternating") -> dict:
    players = build_players(row, seed)
    generator = players.generator
    data, noise, ring = (
        torch.Generator().manual_seed(10_000 + seed),
        torch.Generator().manual_seed(20_000 + seed),
        mixture(DATASET),
    )
    curve, started = [], time.perf_counter()
    name = row if update == "alternating" else f"{row}, {update}"
    for step in range(steps):
        real, ctx = ring.sample(BATCH, data), StepContext(step, steps)
        if update == "simultaneous":
            simultaneous_step(players, real, torch.randn(BATCH, LATENT, generator=noise), ctx)
        else:
            alternating_step(
                players, real, None, lambda n: torch.randn(n, LATENT, generator=noise), lambda n: None, ctx
            )
        if eval_every and (step + 1) % eval_every == 0 and step + 1 < steps:
            s = score(generator)
            curve.append(curve_point(step + 1, s))
            share = 100 * s["high_quality_share"]
            log(f"{name} seed {seed} step {step + 1}: {s['modes_captured']}/8 captured, {share:.1f} % HQ", flush=True)
    final = score(generator)
    curve.append(curve_point(steps, final))
    return {
        "variant": name,
        "update": update,
        "dataset": DATASET,
        "seed": seed,
        "steps": steps,
        "unroll_steps": ROWS[row],
        "seconds": round(time.perf_counter() - started, 1),
        **{
            k: final[k]
            for k in ("modes_captured", "modes_covered", "high_quality_share", "kl_to_uniform", "num_modes", "points")
        },
        "curve": curve,
    }


def table(results: list[dict]) -> str:
    lines = [
        "| row | k | seeds | steps | modes captured | high quality % | reverse KL | modes covered (strict) "
        "| wall s per seed |",
        "|---|--:|--:|--:|---|---|---|---|--:|",
    ]
    for row in dict.fromkeys(r["variant"] for r in results):
        runs = [r for r in results if r["variant"] == row]
        cells = []
        for key, scale in (
            ("modes_captured", 1),
            ("high_quality_share", 100),
            ("kl_to_uniform", 1),
            ("modes_covered", 1),
        ):
            values = [scale * r[key] for r in runs if r[key] is not None]
            mean, se = mean_se(values) if values else (float("nan"), 0.0)
            cells.append(f"{mean:.1f} ± {se:.1f}" if key != "kl_to_uniform" else f"{mean:.2f} ± {se:.2f}")
        seconds = sum(r["seconds"] for r in runs) / len(runs)
        lines.append(
            f"| `{row}` | {runs[0]['unroll_steps']} | {len(runs)} | {runs[0]['steps']:,} | {cells[0]} / 8 "
            f"| {cells[1]} | {cells[2]} | {cells[3]} / 8 | {seconds:.0f} |"
        )
    return "\n".join(lines) + f"\n\nAnchor: {ANCHOR}."


def parse_seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last) + 1)) if last else [int(s) for s in text.split(",")]


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--rows", default="gan,unrolled", help=f"rows to train, of {', '.join(ROWS)}")
    p.add_argument("--seeds", default="0-2", help="'0-4' or '0,3'")
    p.add_argument("--steps", type=int, default=STEPS)
    p.add_argument("--eval-every", type=int, default=2500)
    p.add_argument("--update", choices=("alternating", "simultaneous"), default="alternating")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, default=None, help="results file, written after every seed (atomically)")
    p.add_argument("--from-json", type=Path, nargs="+", default=None, help="print the table of saved results")
    args = p.parse_args(argv)
    if args.from_json:
        results = [r for path in args.from_json for r in json.loads(path.read_text())["results"]]
        print(table(results))
        return results
    rows = [r.strip() for r in args.rows.split(",")]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        p.error(f"unknown row(s) {unknown}: choose from {', '.join(ROWS)}")
    torch.set_num_threads(args.threads)
    results = []
    for row in rows:
        for seed in parse_seeds(args.seeds):
            results.append(train_seed(row, seed, args.steps, args.eval_every, update=args.update))
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(args.json, json.dumps({"command": sys.argv, "results": results}))
    print(table(results))
    return results


if __name__ == "__main__":
    main()
