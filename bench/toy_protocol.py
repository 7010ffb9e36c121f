"""The published 2-D mode-collapse protocol (PacGAN, Lin et al. 2018; scored as VEEGAN does), with
several training seeds trained at once in one process. Used by ``bench/toy_modes.py --preset pacgan``.

Setup, from the PacGAN authors' synthetic-data code (``2DRing_GAN&PacGAN/config.py``, ``pacgan_task.py``):

* data: ``ring8-unit`` (8 modes on the unit circle, std 0.01) or ``grid25`` ({-4,-2,0,2,4}^2, std 0.05);
  a fixed training set of 100,000 points per seed, reshuffled every epoch of 1,000 batches;
* networks: ``pacgan-mlp`` (G 4 x 400 ReLU + batch norm, z 2-D standard normal; D 3 maxout layers of
  200 units x 5 pieces), weights N(0, 0.02^2), biases 0;
* optimiser: Adam lr 1e-4, beta1 0.8 for G and D (variants whose optimiser is not Adam keep theirs);
  batch 100 per seed; ``steps`` trainer steps (the paper: 400 epochs = 400,000);
* scoring on 2,500 samples of the final generator (eval mode): a sample is high quality within 3
  standard deviations of its nearest mode; a mode is *captured* when it is the nearest mode of at
  least one high-quality sample (VEEGAN/PacGAN); reverse KL of the high-quality samples' mode
  histogram to uniform; and the stricter *covered* count of today's bench (a mode needs 10 % of a
  perfect sampler's share).

A PacGAN-m row feeds D what the authors' code feeds it: 100 packed rows of m samples per batch, so
G draws 100 m samples a step and a seed's training set is 100,000 packed rows (100,000 m points; an
epoch stays 1,000 batches). Differences we keep: the step is the project trainer's
(``train.step.alternating_step``: D then G) while the authors' Theano code (ALI's algorithm) updates
D and G simultaneously; and G's batch norm sees the 100 m samples of a step as one batch where the
authors' code calls G once per member of the pack (m batches of 100).
PacGAN-m rows are the ``pacgan`` variant with ``pack`` = m (its ``pack`` network wrapper); every run is
resolved by the trainer's composer (train/compose.py), so a row means what ``python -m train`` would run.

Seeds at once: a run with S seeds builds S-copy networks (gan_hub.nn.seeded) and feeds S blocks of
rows; each copy sees only its block, so the S runs are independent. Techniques that compare rows
across a batch or sum over parameters (minibatch discrimination, feature matching, virtual batch norm,
experience replay, historical averaging, consensus, spectral norm) are trained one seed at a time.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import torch
from safetensors.torch import save_file
from toy_state import load_state, save_state, state_path

from gan_hub.data.images import DatasetInfo
from gan_hub.data.toy2d import mixture
from gan_hub.hub import build_discriminator_network, build_generator_network
from gan_hub.metrics.modes import PROTOCOL_SAMPLES, PROTOCOL_SEED, protocol_coverage
from gan_hub.nn.seeded import init_normal_per_seed, seed_state_dict
from gan_hub.variants import VARIANTS, get_variant
from gan_hub.variants.base import StepContext
from train.compose import Run, compose
from train.config import TrainConfig
from train.step import Players, alternating_step

DATASETS = {"ring": "ring8-unit", "grid": "grid25"}
LATENT_DIM, BATCH, TRAIN_POINTS, SCORED = 2, 100, 100_000, PROTOCOL_SAMPLES
ADAM = {"lr": 1e-4, "betas": (0.8, 0.999)}
PUBLISHED_STEPS = 400 * TRAIN_POINTS // BATCH
# Techniques whose effect on a batch row depends on that row only (or on the objective only).
SEED_SEPARABLE = {"instance_noise", "gradient_penalty", "weight_clipping"}
EVAL_SEED = PROTOCOL_SEED
# Network wrappers that act on each seed's rows alone (PacGAN's packing of consecutive rows).
SEED_SAFE_WRAPPERS = {"pack"}
# Variants whose networks have another shape get PacGAN's point networks in that shape: mixtures of them
# (MIX+GAN), an encoder and a joint D (BiGAN / ALI), an autoencoder D (BEGAN, EBGAN; gan_hub/archs/point_variants.py).
POINT_ARCHS = {"mix-dcgan": "mix-pacgan-mlp", "mix-mlp": "mix-pacgan-mlp", "bigan": "pacgan-bigan"}
POINT_DISCRIMINATORS = {"autoencoder": "pacgan-autoencoder"}
# The unconditional variants that have no form for 2-D points, and why.
LEFT_OUT = {
    "progan": "grows convolutional networks from 4x4 to full resolution: nothing to grow for a point",
    "semi-supervised": "its discriminator classifies labelled examples: a mixture of points has no labels to learn",
}


def protocol_variants() -> list[str]:
    """Every registered unconditional variant that the protocol trains (all but those in LEFT_OUT)."""
    return [n for n in VARIANTS.names() if not get_variant(n).conditional and n not in LEFT_OUT]


def info_codes(dataset: str) -> dict:
    """InfoGAN's codes on a mixture: one categorical code with a category per mode, no continuous code
    (the protocol's z stays 2-D noise; the code slots come on top of it)."""
    return {"categorical": mixture(dataset).num_modes, "continuous": 0}


def parse_run(run: str) -> tuple[str, dict, dict]:
    """'gan+minibatch_discrimination' / 'pacgan3' / 'unrolled@unroll_optimizer=sgd@unroll_steps=10'
    -> (variant, technique switches, variant options); 'pacganM' is the pacgan variant with pack M."""
    head, *options = run.split("@")
    variant, *switches = head.split("+")
    parsed = {}
    for item in options:
        key, _, value = item.partition("=")
        parsed[key] = int(value) if value.lstrip("-").isdigit() else value
    packed = re.fullmatch(r"pacgan(\d+)", variant)
    if packed:
        variant, parsed["pack"] = "pacgan", int(packed.group(1))
    return variant, {name: True for name in switches}, parsed


def compose_run(
    run: str, dataset: str, seeds: list[int], arch_kwargs: dict | None = None, steps: int | None = None
) -> Run:
    """The run resolved by the trainer's own composer (train/compose.py) with the protocol's settings:
    PacGAN's point networks for ``len(seeds)`` seeds at once, Adam 1e-4 / beta1 0.8 where the variant
    uses Adam (others keep their optimiser), batch 100 per seed (100 m for PacGAN-m: 100 packed rows).
    ``arch_kwargs`` change the networks (e.g. ``{"hidden_dim": 200}``: G of 4 x 200, and D's maxout
    layers keep their published 200 units); ``steps`` is recorded as the run's ``max_steps``."""
    variant, switches, options = parse_run(run)
    spec = get_variant(variant)
    if spec.conditional or variant in LEFT_OUT:
        why = LEFT_OUT.get(variant, "it is conditional: the mixtures have no classes")
        raise ValueError(f"{variant} has no networks for the 2-D protocol: {why}")
    if variant == "infogan":
        options = {**info_codes(dataset), **options}
    codes = options.get("categorical", 0) + options.get("continuous", 0) if variant == "infogan" else 0
    adam = {"lr_g": ADAM["lr"], "lr_d": ADAM["lr"], "beta1": ADAM["betas"][0], "beta2": ADAM["betas"][1]}

    def resolve(batch: int) -> Run:
        return compose(
            TrainConfig(
                variant=variant,
                dataset=dataset,
                arch=POINT_ARCHS.get(spec.arch, "pacgan-mlp"),
                latent_dim=LATENT_DIM + codes,
                batch_size=batch,
                ema_decay=0,  # the protocol samples the trained generator itself
                **({"max_steps": steps} if steps else {}),
                arch_kwargs={**(arch_kwargs or {}), **({"seeds": len(seeds)} if len(seeds) > 1 else {})},
                techniques=switches,
                variant_options=options,
                **(adam if spec.optimizer == "adam" else {}),
            )
        )

    resolved = resolve(BATCH)
    pack = resolved.settings["variant_options"].get("pack", 1) if variant == "pacgan" else 1
    return resolved if pack == 1 else resolve(BATCH * pack)  # 100 packed rows for D, as the authors' code


def samples_per_row(run: str) -> int:
    """How many samples D judges together in one input (PacGAN's m; 1 for every other run)."""
    return compose_run(run, "ring8-unit", [0]).settings["batch_size"] // BATCH


def separable(run: str) -> bool:
    """Whether several seeds of ``run`` may share one process (see the module docstring)."""
    resolved = compose_run(run, "ring8-unit", [0])
    names = {t.name for t in resolved.setup.techniques}
    plain_sgd_unroll = resolved.settings["variant_options"].get("unroll_optimizer") == "sgd"  # sees the 1/S scale
    algorithm, setup = resolved.algorithm, resolved.setup
    wrappers = [
        *setup.generator_wrappers,
        *setup.discriminator_wrappers,
        *algorithm.generator_wrappers(),
        *algorithm.discriminator_wrappers(),
    ]
    network_changes = [w for w in wrappers if w["name"] not in SEED_SAFE_WRAPPERS]  # e.g. InfoGAN's shared Q head
    other_shape = resolved.settings["arch"] != "pacgan-mlp" or resolved.spec.discriminator_arch  # not seed-stacked
    return names <= SEED_SEPARABLE and not network_changes and not plain_sgd_unroll and not other_shape


def _networks(run: str, dataset: str, seeds: list[int], arch_kwargs: dict | None = None, steps: int | None = None):
    resolved = compose_run(run, dataset, seeds, arch_kwargs, steps)
    config = resolved.model_config(DatasetInfo(dataset, channels=2, image_size=0))
    config.discriminator.arch = POINT_DISCRIMINATORS.get(config.discriminator.arch, config.discriminator.arch)
    torch.manual_seed(seeds[0])  # layers with their own initialisation (minibatch discrimination)
    generator, discriminator = build_generator_network(config), build_discriminator_network(config)
    if hasattr(discriminator, "attach_latent"):  # BiGAN's joint D: its layers exist before they are initialised
        discriminator.attach_latent(config.latent_dim)
    init_normal_per_seed(generator, seeds)
    init_normal_per_seed(discriminator, seeds)
    resolved.algorithm.setup(generator, discriminator)
    opt = resolved.optimizer
    opt_g, opt_d = opt.build(generator.parameters(), opt.lr_g), opt.build(discriminator.parameters(), opt.lr_d)
    return Players(generator, discriminator, opt_g, opt_d, resolved.algorithm, resolved.settings["n_critic"])


class SeedBatches:
    """Per seed a fixed training set of 100,000 points, reshuffled each epoch; batches [S * B, 2]."""

    def __init__(self, dataset: str, seeds: list[int], batch: int = BATCH, size: int = TRAIN_POINTS):
        mix = mixture(dataset)
        self.data = torch.stack([mix.sample(size, torch.Generator().manual_seed(10_000 + s)) for s in seeds])
        self.gens = [torch.Generator().manual_seed(30_000 + s) for s in seeds]
        self.batch, self.per_epoch, self.order = batch, size // batch, None

    def get(self, step: int) -> torch.Tensor:
        i = step % self.per_epoch
        if i == 0 or self.order is None:
            self.order = torch.stack([torch.randperm(self.data.shape[1], generator=g) for g in self.gens])
        index = self.order[:, i * self.batch : (i + 1) * self.batch]
        return torch.gather(self.data, 1, index.unsqueeze(-1).expand(-1, -1, 2)).reshape(-1, 2)


def latent_width(run: str, dataset: str) -> int:
    """The width of the run's latent: 2 (PacGAN's z), plus InfoGAN's code slots."""
    return compose_run(run, dataset, [0]).settings["latent_dim"]


def _score(generator, dataset: str, seeds: list[int], latent_dim: int = LATENT_DIM) -> list[dict]:
    generator.eval()
    with torch.no_grad():
        z = torch.randn(len(seeds) * SCORED, latent_dim, generator=torch.Generator().manual_seed(EVAL_SEED))
        points = generator(z, None).view(len(seeds), SCORED, 2)
    generator.train()
    scores = []
    for p in points:
        finite = bool(torch.isfinite(p).all())
        p = p if finite else torch.full_like(p, 1e6)
        coverage = protocol_coverage(p, dataset)
        keys = ("modes_captured", "modes_covered", "num_modes", "high_quality_share", "kl_to_uniform")
        scores.append({**{k: coverage[k] for k in keys}, "finite": finite, "points": p})
    return scores


def curve_point(step: int, score: dict) -> list:
    """[step, modes captured, modes covered (strict), high-quality share, reverse KL or None]."""
    kl = score["kl_to_uniform"]
    return [
        step,
        score["modes_captured"],
        score["modes_covered"],
        round(score["high_quality_share"], 4),
        None if kl is None else round(kl, 4),
    ]


def _results(run, dataset, seeds, steps_done, seconds, finite, scores, curves) -> list[dict]:
    return [
        {
            "variant": run,
            "dataset": dataset,
            "seed": s,
            "steps": steps_done,
            "seeds_at_once": len(seeds),
            "seconds": round(seconds, 2),
            **{k: v for k, v in score.items() if k != "points"},
            "finite": score["finite"] and finite,
            "curve": [list(c) for c in curve],
            "points": score["points"][:1000].tolist(),
        }
        for s, score, curve in zip(seeds, scores, curves)
    ]


def train_group(
    run: str,
    dataset: str,
    seeds: list[int],
    steps: int,
    eval_every: int = 0,
    checkpoint_dir: Path | None = None,
    log=print,
    progress=None,
    arch_kwargs: dict | None = None,
    state_dir: Path | None = None,
) -> list[dict]:
    """Train ``run`` on ``dataset`` for ``steps`` trainer steps with every seed in ``seeds`` at once;
    one result per seed (scores, a mode-count curve, 1,000 of its scored points). ``progress(results)``
    gets the results so far at every evaluation, so a run stopped early keeps what it measured.

    With ``state_dir`` the group's full training state is saved there at every evaluation, when it is
    stopped and when it ends, and a call with the same arguments continues from it exactly (the same
    weights, scores and curves as one uninterrupted run): long schedules can span several sessions."""
    if len(seeds) > 1 and not separable(run):
        raise ValueError(f"{run} mixes rows across the batch or sums over parameters: train its seeds one at a time")
    players = _networks(run, dataset, seeds, arch_kwargs, steps)
    width = latent_width(run, dataset)
    pack = samples_per_row(run)
    batches = SeedBatches(dataset, seeds, BATCH * pack, TRAIN_POINTS * pack)
    noise = torch.Generator().manual_seed(20_000 + seeds[0])
    curves = [[] for _ in seeds]
    started, finite, done, seconds_before = time.perf_counter(), True, 0, 0.0
    identity = {"run": run, "dataset": dataset, "seeds": seeds, "steps": steps, "arch_kwargs": arch_kwargs or {}}
    path = state_path(state_dir, run, dataset, seeds) if state_dir is not None else None
    if path is not None and path.is_file():
        resumed = load_state(path, identity, players, batches, noise)
        done, seconds_before, finite, curves = resumed["step"], resumed["seconds"], resumed["finite"], resumed["curves"]
        log(f"{run} {dataset} seeds {seeds}: resumed at step {done} from {path}", flush=True)

    def elapsed() -> float:
        return seconds_before + time.perf_counter() - started

    def keep_state() -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            progress_now = {"step": done, "seconds": elapsed(), "finite": finite, "curves": curves}
            save_state(path, identity, players, batches, noise, progress_now)

    try:
        for step in range(done if finite else steps, steps):
            ctx = StepContext(step, steps)
            logs, _ = alternating_step(
                players,
                batches.get(step),
                None,
                lambda n: torch.randn(n, width, generator=noise),
                lambda n: None,
                ctx,
            )
            if not all(math.isfinite(v) for v in logs.values()):
                finite = False
                log(f"{run} {dataset} seeds {seeds}: non-finite losses at step {step}, stopped")
                break
            done = step + 1
            if eval_every and done % eval_every == 0 and done < steps:
                scores = _score(players.generator, dataset, seeds, width)
                for curve, s in zip(curves, scores):
                    curve.append(curve_point(done, s))
                keep_state()
                log(
                    f"{run} {dataset} step {done}: captured {[c[-1][1] for c in curves]}, "
                    f"HQ {[c[-1][3] for c in curves]} ({elapsed():.0f} s)",
                    flush=True,
                )
                if progress is not None:
                    progress(_results(run, dataset, seeds, done, elapsed(), finite, scores, curves))
    except (
        KeyboardInterrupt
    ):  # Ctrl-C / SIGTERM (bench/toy_modes.py): score and save what was trained, then stop the bench
        log(f"{run} {dataset}: interrupted after {done} steps; scoring and saving the generators")
        interrupted = True
    else:
        interrupted = False
    seconds = elapsed()
    scores = _score(players.generator, dataset, seeds, width)
    final = [curve_point(done, score) for score in scores]
    if path is not None and not (curves[0] and curves[0][-1][0] == done):
        keep_state()  # before the final point: a rerun scores the same weights again and appends it once
    for curve, point in zip(curves, final):
        if not (curve and curve[-1][0] == done):
            curve.append(point)
    if checkpoint_dir is not None:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        for i, s in enumerate(seeds):
            state = players.generator.state_dict() if len(seeds) == 1 else seed_state_dict(players.generator, i)
            save_file(
                {k: v.contiguous() for k, v in state.items()},
                str(checkpoint_dir / f"{run.replace('@', '_')}-{dataset}-seed{s}.safetensors"),
            )
    results = _results(run, dataset, seeds, done, seconds, finite, scores, curves)
    if interrupted:
        for r in results:
            r["interrupted"] = True
    return results
