"""Mode coverage of every unconditional variant on the 2-D toy mixtures, with MLP networks on the CPU.

Two presets:

* ``--preset pacgan``: the published protocol (PacGAN's networks, data, optimiser and VEEGAN's
  scoring; see bench/toy_protocol.py), several seeds trained at once, mean +/- standard error per
  row next to the published numbers::

    python bench/toy_modes.py --preset pacgan --variants gan,pacgan2,unrolled --datasets ring,grid \
        --seeds 0-9 --steps 2000 --eval-every 250 --json runs/gan.json

* ``--preset small`` (default, the earlier bench): 3 x 128 MLPs, latent 16, batch 256::

    python bench/toy_modes.py                          # every variant, ring8 and grid25, seed 0
    python bench/toy_modes.py --variants gan,wgan-gp --datasets ring8 --g-steps 500 --quick
    python bench/toy_modes.py --seeds 0,1,2 --markdown results.md

Each variant keeps its objective, techniques, optimizer, learning rates and critic steps; only the
networks are replaced by MLPs for 2-D points (``--arch mlp`` with ``image_size 0``) of the same size
for every variant. Budgets are equal in generator updates (``--g-steps``; a variant with 5 critic
steps per generator step also gets 5x the discriminator batches). Every step draws a fresh batch
of the mixture from a seeded generator. The training step is the trainer's own
(``train.step.alternating_step``).

Scores (gan_hub.metrics.modes.mixture_coverage) on ``--samples`` points of the final generator
(eval mode, latents from ``--seed``): the share of high-quality samples (within 3 std of a mode),
the modes covered (at least 10 % of a perfect sampler's share of high-quality samples), and the
KL divergence of the high-quality samples' mode histogram from uniform.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from toy_figures import mean_se, mode_curves, samples_grid  # noqa: E402

from gan_hub.data.images import DatasetInfo  # noqa: E402
from gan_hub.data.toy2d import mixture  # noqa: E402
from gan_hub.hub import build_discriminator_network, build_generator_network  # noqa: E402
from gan_hub.metrics.modes import mixture_coverage  # noqa: E402
from gan_hub.sampling import latents  # noqa: E402
from gan_hub.variants import VARIANTS, get_variant  # noqa: E402
from gan_hub.variants.base import StepContext  # noqa: E402
from train.compose import Run, compose  # noqa: E402
from train.config import TrainConfig  # noqa: E402
from train.step import Players, alternating_step  # noqa: E402

MLP = {"hidden_dim": 128, "num_layers": 3}
# Single techniques added to the plain GAN, to see what each does on its own against mode collapse.
ABLATIONS = ["gan+minibatch_discrimination", "gan+experience_replay", "gan+instance_noise", "gan+consensus"]
# The seeds' techniques against plain GAN in the published protocol (--preset pacgan --variants techniques):
# Improved GAN's five, instance noise, experience replay, unrolling, MIX+GAN and PacGAN 2, 3 and 4.
TECHNIQUE_ROWS = [
    "gan",
    *(
        f"gan+{t}"
        for t in (
            "minibatch_discrimination",
            "feature_matching",
            "historical_averaging",
            "label_smoothing",
            "virtual_batch_norm",
            "instance_noise",
            "experience_replay",
        )
    ),
    "unrolled",
    "mix-gan",
    "pacgan2",
    "pacgan3",
    "pacgan4",
]
# Discriminator architectures that have a counterpart for vectors.
VECTOR_DISCRIMINATOR = {"autoencoder": "autoencoder-mlp"}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument(
        "--preset",
        choices=["small", "pacgan"],
        default="small",
        help="small: 3x128 MLPs (the earlier bench); pacgan: the published protocol (bench/toy_protocol.py)",
    )
    p.add_argument("--steps", type=int, default=2000, help="pacgan preset: trainer steps per run (the paper: 400,000)")
    p.add_argument("--eval-every", type=int, default=0, help="pacgan preset: score every N steps (mode-count curves)")
    p.add_argument(
        "--seeds-at-once",
        type=int,
        default=10,
        help="pacgan preset: seeds trained together in one process (1 for runs that mix batch rows)",
    )
    p.add_argument(
        "--checkpoints", type=Path, default=None, help="pacgan preset: save each seed's final generator here"
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="pacgan preset: keep each group's full training state here (saved at every evaluation and when "
        "stopped); the same command run again continues exactly where it stopped",
    )
    p.add_argument(
        "--variants",
        default="all",
        help="comma-separated variants, each optionally with +technique switches (e.g. gan+minibatch_discrimination); "
        "'all': every unconditional variant (small preset: and the single-technique ablations of gan; pacgan preset: "
        "all but progan and semi-supervised, which have no form for points); 'techniques': plain GAN and "
        "each of the seeds' techniques (" + ", ".join(TECHNIQUE_ROWS[1:]) + ")",
    )
    p.add_argument("--datasets", default="ring8,grid25")
    p.add_argument("--g-steps", type=int, default=2000, help="generator updates per run (equal budget)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--latent-dim", type=int, default=16)
    p.add_argument("--samples", type=int, default=2500, help="points scored per run")
    p.add_argument("--seeds", default="0", help="comma-separated training seeds, or a range such as 0-9")
    p.add_argument("--threads", type=int, default=1, help="torch threads (tiny MLPs: 1 is fastest)")
    p.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "toy_modes.json")
    p.add_argument("--markdown", type=Path, default=None, help="also write the table to this file")
    p.add_argument(
        "--figure", type=Path, default=None, help="write a PNG of every run's samples (rows variants, columns datasets)"
    )
    p.add_argument(
        "--curves", type=Path, default=None, help="pacgan preset: write a PNG of modes captured over training"
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 200 generator updates, 500 samples")
    p.add_argument(
        "--at-step",
        type=int,
        default=None,
        help="with --from-json: score every run at this step of its mode-count curve (compares runs "
        "of different lengths at the same budget; runs without that step are left out)",
    )
    p.add_argument(
        "--summary",
        type=Path,
        default=None,
        help="with --from-json: write the results with 3-decimal points for each row's first seed only "
        "(small enough to commit; the table, figure and curves render from it)",
    )
    p.add_argument(
        "--from-json",
        type=Path,
        nargs="+",
        default=None,
        help="train nothing: render the table (and --figure) from the results of earlier runs",
    )
    return p.parse_args(argv)


# Variants whose networks are more than a plain G and D (a mixture, an encoder, latent codes) have no
# MLP counterpart for points here; they are left out of the toy table.
NO_POINT_NETWORKS = ("mix-gan", "bigan", "infogan", "semi-supervised", "progan")


def unconditional_variants() -> list[str]:
    return [name for name in VARIANTS.names() if not get_variant(name).conditional and name not in NO_POINT_NETWORKS]


def split_run_name(run: str) -> tuple[str, dict]:
    """'gan+minibatch_discrimination' -> ('gan', {'minibatch_discrimination': True}): a variant plus switches."""
    variant, *extra = run.split("+")
    return variant, {name: True for name in extra}


def compose_run(run: str, dataset: str, args) -> Run:
    """The run as the trainer's composer resolves it (train/compose.py), on the MLP point networks."""
    variant, extra = split_run_name(run)
    return compose(
        TrainConfig(
            variant=variant,
            dataset=dataset,
            arch="mlp",
            arch_kwargs=MLP,
            latent_dim=args.latent_dim,
            batch_size=args.batch_size,
            techniques=extra,
        )
    )


def train_one(run: str, dataset: str, seed: int, args) -> dict:
    resolved = compose_run(run, dataset, args)
    torch.manual_seed(seed)
    config = resolved.model_config(DatasetInfo(dataset, channels=2, image_size=0))
    if config.discriminator.arch in VECTOR_DISCRIMINATOR:  # the variant's image D has a point counterpart
        config.discriminator.arch = VECTOR_DISCRIMINATOR[config.discriminator.arch]
        config.discriminator.kwargs = {**MLP, **config.discriminator.kwargs}
    generator, discriminator = build_generator_network(config), build_discriminator_network(config)
    algorithm = resolved.algorithm
    algorithm.setup(generator, discriminator)
    optimizer = resolved.optimizer
    players = Players(
        generator,
        discriminator,
        optimizer.build(generator.parameters(), optimizer.lr_g),
        optimizer.build(discriminator.parameters(), optimizer.lr_d),
        algorithm,
        resolved.settings["n_critic"],
    )
    mix = mixture(dataset)
    data_rng = torch.Generator().manual_seed(10_000 + seed)
    noise_rng = torch.Generator().manual_seed(20_000 + seed)
    d_steps = args.g_steps * resolved.settings["n_critic"]
    started, logs = time.perf_counter(), {}
    for step in range(d_steps):
        real = mix.sample(args.batch_size, data_rng)
        ctx = StepContext(step, d_steps)
        logs, _ = alternating_step(
            players, real, None, lambda n: torch.randn(n, args.latent_dim, generator=noise_rng), lambda n: None, ctx
        )
        if not all(math.isfinite(v) for v in logs.values()):
            break
    seconds = time.perf_counter() - started
    generator.eval()
    with torch.no_grad():
        points = generator(latents(args.samples, args.latent_dim, seed=12345), None)
    finite = bool(torch.isfinite(points).all())
    coverage = mixture_coverage(points if finite else torch.full_like(points, 1e6), mix)
    return {
        "variant": run,
        "dataset": dataset,
        "seed": seed,
        "g_steps": args.g_steps,
        "d_steps": d_steps,
        "seconds": round(seconds, 2),
        "finite": finite and all(math.isfinite(v) for v in logs.values()),
        "modes_covered": coverage["modes_covered"],
        "num_modes": coverage["num_modes"],
        "high_quality_share": coverage["high_quality_share"],
        "kl_to_uniform": coverage["kl_to_uniform"],
        "points": points[:1000].tolist() if finite else [],
    }


def table(results: list[dict], datasets: list[str]) -> str:
    """Markdown: one row per variant, per dataset 'modes covered / K, high-quality %' (mean over seeds)."""
    head = "| variant | " + " | ".join(f"{d}: modes | {d}: high quality | {d}: KL" for d in datasets) + " |"
    rule = "|---|" + "---|---|---|" * len(datasets)
    rows = []
    for variant in dict.fromkeys(r["variant"] for r in results):
        cells = []
        for d in datasets:
            runs = [r for r in results if r["variant"] == variant and r["dataset"] == d]
            if not runs:
                cells += ["", "", ""]
                continue
            modes = sum(r["modes_covered"] for r in runs) / len(runs)
            share = sum(r["high_quality_share"] or 0 for r in runs) / len(runs)
            kls = [r["kl_to_uniform"] for r in runs if r["kl_to_uniform"] is not None]
            failed = "" if all(r["finite"] for r in runs) else " (diverged)"
            cells += [
                f"{modes:g} / {runs[0]['num_modes']}{failed}",
                f"{100 * share:.1f} %",
                f"{sum(kls) / len(kls):.2f}" if kls else "n/a",
            ]
        rows.append(f"| `{variant}` | " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows])


# PacGAN Table 1 (10 trials, mean +/- s.e.) and VEEGAN's table (unrolled GAN, 5 runs): modes, high quality %, KL.
PUBLISHED = {
    ("gan", "ring8-unit"): "6.3 ± 0.5 · 98.2 ± 0.2 % · 0.45 ± 0.09",
    ("gan", "grid25"): "17.3 ± 0.8 · 94.8 ± 0.7 % · 0.70 ± 0.07",
    ("pacgan2", "ring8-unit"): "7.9 ± 0.1 · 95.6 ± 2.0 % · 0.07 ± 0.03",
    ("pacgan2", "grid25"): "23.8 ± 0.7 · 91.3 ± 0.8 % · 0.13 ± 0.04",
    ("pacgan3", "ring8-unit"): "7.8 ± 0.1 · 97.7 ± 0.3 % · 0.10 ± 0.02",
    ("pacgan3", "grid25"): "24.6 ± 0.4 · 94.2 ± 0.4 % · 0.06 ± 0.02",
    ("pacgan4", "ring8-unit"): "7.8 ± 0.1 · 95.9 ± 1.4 % · 0.07 ± 0.02",
    ("pacgan4", "grid25"): "24.8 ± 0.2 · 93.6 ± 0.6 % · 0.04 ± 0.01",
    ("unrolled", "ring8-unit"): "7.6 · 35.6 % (VEEGAN's setting)",
    ("unrolled", "grid25"): "23.6 · 16 % (VEEGAN's setting)",
    ("bigan", "ring8-unit"): "6.6 ± 0.3 · 97.6 ± 0.4 % · 0.36 ± 0.04 (ALI)",
    ("bigan", "grid25"): "24.1 ± 0.4 · 95.7 ± 0.6 % · 0.14 ± 0.03 (ALI)",
}
PUBLISHED.update({("pacgan", d): PUBLISHED[("pacgan2", d)] for d in ("ring8-unit", "grid25")})  # pack 2 by default


def _cell(values: list[float], digits: int, scale: float = 1.0) -> str:
    mean, se = mean_se([scale * v for v in values])
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def protocol_table(results: list[dict]) -> str:
    """Markdown: one row per (variant, dataset): seeds, modes captured, high quality %, reverse KL, the
    stricter covered count (mean ± s.e. over seeds), steps, and the published numbers."""
    head = (
        "| variant | data | seeds | modes captured | high quality % | reverse KL | modes covered (strict) "
        "| steps | published (modes · HQ · KL) |"
    )
    rows = [head, "|---|---|---|---|---|---|---|---|---|"]
    keys = list(dict.fromkeys((r["variant"], r["dataset"]) for r in results))
    for variant, dataset in sorted(keys, key=lambda k: (k[1], k[0] != "gan", k[0])):
        runs = [r for r in results if r["variant"] == variant and r["dataset"] == dataset]
        k = runs[0]["num_modes"]
        kls = [r["kl_to_uniform"] for r in runs if r["kl_to_uniform"] is not None]
        diverged = sum(not r["finite"] for r in runs)
        rows.append(
            f"| `{variant}` | {dataset} | {len(runs)}{f' ({diverged} diverged)' if diverged else ''} "
            f"| {_cell([r['modes_captured'] for r in runs], 1)} / {k} "
            f"| {_cell([r['high_quality_share'] or 0 for r in runs], 1, 100)} "
            f"| {_cell(kls, 2) if kls else 'n/a'} | {_cell([r['modes_covered'] for r in runs], 1)} / {k} "
            f"| {runs[0]['steps']:,} | {PUBLISHED.get((variant, dataset), '')} |"
        )
    return "\n".join(rows)


def parse_seeds(text: str) -> list[int]:
    """'0,1,2' or '0-9' (inclusive) or a mix: '0-4,7'."""
    seeds = []
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        seeds += list(range(int(low), int(high) + 1)) if dash else [int(low)]
    return seeds


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def stop_gracefully() -> None:
    """SIGINT and SIGTERM stop the training loop (which then scores and saves what it has): background
    jobs start with SIGINT ignored, and `kill PID` sends SIGTERM."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


def run_protocol(args, variants: list[str]) -> list[dict]:
    """The pacgan preset: every run with its seeds in groups of --seeds-at-once (1 when not separable)."""
    from toy_protocol import DATASETS, separable, train_group

    datasets = [DATASETS.get(d.strip(), d.strip()) for d in args.datasets.split(",")]
    seeds = parse_seeds(args.seeds)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); pacgan preset, {args.steps} steps, "
        f"D batch 100 (of m-sample packs for PacGAN-m), seeds {seeds}, up to {args.seeds_at_once} at once"
    )
    stop_gracefully()
    results = []
    groups = [
        (run, dataset, seeds[i : i + (args.seeds_at_once if separable(run) else 1)])
        for run in variants
        for dataset in datasets
        for i in range(0, len(seeds), args.seeds_at_once if separable(run) else 1)
    ]
    for run, dataset, group in groups:
        out = train_group(
            run,
            dataset,
            group,
            args.steps,
            args.eval_every,
            args.checkpoints,
            progress=lambda interim: save_results(args, results + interim),
            state_dir=args.state_dir,
        )
        results += out
        save_results(args, results)
        for r in out:
            print(
                f"{run:>28} {dataset:>10} seed {r['seed']}: {r['modes_captured']:>2}/{r['num_modes']} captured, "
                f"{r['modes_covered']:>2} covered, {100 * (r['high_quality_share'] or 0):5.1f} % HQ "
                f"({r['seconds']:.0f} s for {len(group)} seed(s))",
                flush=True,
            )
        if any(r.get("interrupted") for r in out):
            break  # Ctrl-C: the interrupted group is scored and saved; the rest is not started
    report(args, results, protocol_table(results), seeds[0])
    return results


def at_step(results: list[dict], step: int) -> list[dict]:
    """Each run's scores at ``step`` of its curve ([step, captured, covered, HQ share, KL?]); runs without it
    dropped."""
    out = []
    for r in results:
        point = next((c for c in r.get("curve", []) if c[0] == step), None)
        if point is not None:
            out.append(
                {
                    **r,
                    "steps": step,
                    "modes_captured": point[1],
                    "modes_covered": point[2],
                    "high_quality_share": point[3],
                    "kl_to_uniform": point[4] if len(point) > 4 else None,
                }
            )
    return out


def report(args, results: list[dict], text: str, seed: int) -> None:
    """Print the table; write it (--markdown), the samples grid (--figure) and the curves (--curves)."""
    print()
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.figure:
        samples_grid(results, args.figure, seed)
        print(f"wrote {args.figure}")
    if args.curves:
        mode_curves(results, args.curves)
        print(f"wrote {args.curves}")


def write_summary(results: list[dict], path: Path) -> None:
    """The results with 500 sample points (rounded) of each (variant, dataset)'s first seed, and no others."""
    shown, slim = set(), []
    for r in results:
        key = (r["variant"], r["dataset"])
        keep = key not in shown and bool(r.get("points"))
        shown.add(key)
        slim.append({**r, "points": [[round(x, 3), round(y, 3)] for x, y in r["points"][:500]] if keep else []})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"results": slim}, separators=(",", ":")) + "\n")


def save_results(args, results: list[dict]) -> None:
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}) + "\n")


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    if args.from_json:
        results = [r for path in args.from_json for r in json.loads(path.read_text())["results"]]
        if args.at_step:
            results = at_step(results, args.at_step)
        datasets = list(dict.fromkeys(r["dataset"] for r in results))
        text = protocol_table(results) if "modes_captured" in results[0] else table(results, datasets)
        report(args, results, text, results[0]["seed"])
        if args.summary:
            write_summary(results, args.summary)
        return results
    if args.quick:
        args.g_steps, args.samples = 200, 500
    torch.set_num_threads(args.threads)
    variants = [v.strip() for v in args.variants.split(",")]
    groups = {"all": unconditional_variants() + ABLATIONS, "techniques": TECHNIQUE_ROWS}
    if args.preset == "pacgan":
        from toy_protocol import protocol_variants

        groups["all"] = protocol_variants()
    variants = [v for item in variants for v in groups.get(item, [item])]
    if args.preset == "pacgan":
        return run_protocol(args, variants)
    for run in variants:
        compose_run(run, "ring8", args)  # every run checked before any trains
    datasets = [d.strip() for d in args.datasets.split(",")]
    seeds = parse_seeds(args.seeds)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {args.g_steps} generator updates, "
        f"batch {args.batch_size}, MLP {MLP}, latent {args.latent_dim}, {args.samples} samples scored"
    )
    results = []
    for variant in variants:
        for dataset in datasets:
            for seed in seeds:
                r = train_one(variant, dataset, seed, args)
                results.append(r)
                save_results(args, results)  # after every run, so a stopped benchmark keeps what it measured
                print(
                    f"{variant:>16} {dataset:>7} seed {seed}: {r['modes_covered']:>2}/{r['num_modes']} modes, "
                    f"{100 * (r['high_quality_share'] or 0):5.1f} % high quality, {r['seconds']:.1f} s",
                    flush=True,
                )
    report(args, results, table(results, datasets), seeds[0])
    return results


if __name__ == "__main__":
    main()
