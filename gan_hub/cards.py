"""Model cards rendered from the templates in ``gan_hub/model_cards/`` (package data) with huggingface_hub's
ModelCard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from . import quality_bar
from .config import GeneratorConfig
from .optim import ADAM_KINDS
from .scatter import SCATTER_POINTS, mixture_for

TEMPLATES = Path(__file__).resolve().parent / "model_cards"
DATASET_LABELS = {
    "mnist": "MNIST",
    "fashion-mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "svhn": "SVHN",
    "celeba": "CelebA",
    "synthetic": "a synthetic test set",
    "ring8": "a ring of 8 Gaussians (radius 2, std 0.02)",
    "ring8-unit": "a ring of 8 Gaussians (radius 1, std 0.01)",
    "grid25": "a 5 x 5 grid of Gaussians (spacing 2, std 0.05)",
}
# the zoo's short names of the 2-D datasets (model_zoo/gan-ring8 is trained on ring8-unit: PacGAN's scale)
ZOO_DATASET_NAMES = {"ring8-unit": "ring8"}
HUB_DATASETS = {
    "mnist": "ylecun/mnist",
    "fashion-mnist": "zalando-datasets/fashion_mnist",
    "cifar10": "uoft-cs/cifar10",
    "svhn": "ufldl-stanford/svhn",
}


PROTOCOL_KEYS = (
    "scorer",
    "num_samples",
    "splits",
    "seed",
    "reference",
    "subsets",
    "subset_size",
    "num_modes",
    "mixture",
    "quality_stds",
    "min_count",
)


def score_value(score: dict[str, Any]) -> float | None:
    value = score.get("mean", score.get("value"))
    return None if value is None else float(value)


def format_score(score: dict[str, Any]) -> str:
    if "std" in score:
        digits = 3 if abs(score["mean"]) >= 0.01 else 5  # KID values are small
        return f"{score['mean']:.{digits}f} ± {score['std']:.{digits}f}"
    if score.get("value") is None:
        return "n/a"
    return f"{score['value']:.4g}"


def score_protocol(score: dict[str, Any]) -> str:
    return ", ".join(f"{k}={score[k]}" for k in PROTOCOL_KEYS if k in score)


def eval_results(config: GeneratorConfig, scores: list[dict[str, Any]]) -> list[EvalResult]:
    return [
        EvalResult(
            task_type="unconditional-generation" if config.is_vector else "unconditional-image-generation",
            dataset_type=HUB_DATASETS.get(config.dataset, config.dataset or "unknown"),
            dataset_name=DATASET_LABELS.get(config.dataset, config.dataset or "unknown"),
            metric_type=s["metric"],
            metric_name=f"{s['name']} ({score_protocol(s)})",
            metric_value=round(score_value(s), 6),
        )
        for s in scores
        if score_value(s) is not None
    ]


def variant_section(variant: str) -> str:
    """The variant's template (``variants/NAME.md``, else its family's ``variants/PREFIX.md``) and its defaults."""
    folder = TEMPLATES / "variants"
    for path in (folder / f"{variant}.md", folder / f"{variant.split('-')[0]}.md"):
        if path.is_file():
            return path.read_text().rstrip() + "\n" + variant_defaults(variant) + "\n"
    return variant_defaults(variant)


def variant_defaults(variant: str) -> str:
    """One line of the variant's registered defaults, read from its VariantSpec (so it cannot go stale)."""
    from .variants import VARIANTS

    if variant not in VARIANTS:
        return ""
    spec = VARIANTS.get(variant)
    betas = f", betas {spec.betas}" if spec.optimizer in ADAM_KINDS else ""
    techniques = ", ".join(f"{k}={v}" if v is not True else k for k, v in spec.techniques.items()) or "none"
    return (
        f"Defaults: objective `{spec.objective}`, architecture `{spec.arch}`"
        f"{f' with a `{spec.discriminator_arch}` discriminator' if spec.discriminator_arch else ''}, "
        f"{spec.optimizer} lr G {spec.lr_g:g} / D {spec.lr_d:g}{betas}, {spec.n_critic} D step(s) per G step, "
        f"batch {spec.batch_size}, techniques: {techniques}."
    )


def ran_with(resolved: dict[str, Any]) -> str:
    """The resolved training settings (train/compose.py) in one line: what this model was trained with."""
    techniques = ", ".join(f"{k}={v}" if v is not True else k for k, v in (resolved.get("techniques") or {}).items())
    options = ", ".join(f"{k}={v}" for k, v in (resolved.get("variant_options") or {}).items())
    takes_betas = resolved.get("optimizer") in ADAM_KINDS and resolved.get("betas")
    betas = f", betas {tuple(resolved['betas'])}" if takes_betas else ""
    schedule = (
        f", lr decay from step {resolved['lr_decay_start']}" if resolved.get("lr_decay_start") is not None else ""
    )
    return (
        f"objective `{resolved.get('objective')}`, architecture `{resolved.get('arch')}` "
        f"{resolved.get('arch_kwargs') or ''}, {resolved.get('optimizer')} lr G {resolved.get('lr_g'):g} / "
        f"D {resolved.get('lr_d'):g}{betas}, {resolved.get('n_critic')} D step(s) per G step, batch "
        f"{resolved.get('batch_size')}, {resolved.get('max_steps')} steps{schedule}, EMA decay "
        f"{resolved.get('ema_decay')}, techniques: {techniques or 'none'}"
        f"{f', variant options: {options}' if options else ''}."
    )


# the zoo's guideline: a larger generator says why in its card
SIZE_GUIDELINE_MB = 4.0


def render_model_card(
    config: GeneratorConfig, metrics: dict[str, Any] | None, repo_hint: str | None = None, size: dict | None = None
) -> ModelCard:
    scores = (metrics or {}).get("scores", [])
    reference = (metrics or {}).get("reference", [])
    tags = ["gan", config.variant, config.dataset, "gan-hub"] + (["class-conditional"] if config.conditional else [])
    tags += ["2d-points", "mode-collapse"] if config.is_vector else []
    mixture = mixture_for(config.dataset) if config.is_vector else None
    card_data = ModelCardData(
        library_name="gan-hub",
        pipeline_tag=None if config.is_vector else "unconditional-image-generation",
        license="mit",
        tags=[t for t in dict.fromkeys(tags) if t],
        datasets=[HUB_DATASETS[config.dataset]] if config.dataset in HUB_DATASETS else None,
        model_name=f"{config.variant}-{config.dataset}",
        eval_results=eval_results(config, scores) or None,
    )
    training = config.provenance
    zoo_name = f"{config.variant}-{ZOO_DATASET_NAMES.get(config.dataset, config.dataset)}"
    training_lines = [
        f"{k.replace('_', ' ')}: {training[k]}"
        for k in (
            "objective",
            "steps",
            "batch_size",
            "seed",
            "git_commit",
            "ema",
            "mixed_precision",
            "num_processes",
            "protocol",
        )
        if k in training
    ]
    resolved = training.get("resolved")
    if resolved:
        training_lines.append("settings that ran: " + ran_with(resolved))
    final_logs = ((metrics or {}).get("training") or {}).get("final_logs") or {}
    if final_logs:
        training_lines.append(
            "losses and training measures at the last step: " + ", ".join(f"{k} {v:.4g}" for k, v in final_logs.items())
        )
    return ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATES / "base.md"),
        title=f"{config.variant} on {DATASET_LABELS.get(config.dataset, config.dataset)}",
        variant=config.variant,
        dataset_label=DATASET_LABELS.get(config.dataset, config.dataset or "unspecified data"),
        conditional=config.conditional,
        num_classes=config.num_classes,
        class_names=config.class_names,
        example_label=0,
        repo_hint=repo_hint or f"gan-hub/{zoo_name}",
        zoo_name=zoo_name,
        channels=config.channels,
        image_size=config.image_size,
        vector=config.is_vector,
        mixture=mixture,
        scatter_points=SCATTER_POINTS,
        latent_dim=config.latent_dim,
        arch=config.arch,
        arch_kwargs=", ".join(f"{k}={v}" for k, v in config.arch_kwargs.items()) or "defaults",
        scores=[{"name": s["name"], "value": format_score(s), "protocol": score_protocol(s)} for s in scores],
        reference="; ".join(f"{r['name']} {format_score(r)} ({score_protocol(r)})" for r in reference),
        training_lines=training_lines,
        ema=bool(training.get("ema")),
        variant_section=variant_section(config.variant),
        size=size,
        own_scores=[s["name"] for s in scores if s.get("metric") in quality_bar.VARIANT_SCORE_METRICS],
        over_size_guideline=bool(size) and size["float16_megabytes"] > SIZE_GUIDELINE_MB,
        quality_bar=quality_bar.check(scores, config.conditional) if config.dataset == "mnist" else None,
        recipe=((metrics or {}).get("training") or {}).get("recipe", ""),
    )
