"""Run by tests/test_variants.py, in one process or under `accelerate launch --num_processes 2`:
train each named variant for a few steps on the synthetic dataset and report, per variant, whether
every logged loss stayed finite and whether the weights are identical on every rank.

    python tests/train_every_variant.py OUT_JSON STEPS VARIANT [VARIANT ...]
"""

import inspect
import json
import math
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gan_hub.registry import ARCHS  # noqa: E402
from gan_hub.variants import get_variant  # noqa: E402
from train.config import TrainConfig  # noqa: E402
from train.trainer import Trainer  # noqa: E402

# options that make a short run cover what the variant does over a long one (ProGAN: every level and fade)
SHORT_RUN_OPTIONS = {"progan": {"fade_steps": 2, "stable_steps": 2}}


def weight_vector(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten().double() for p in module.parameters()])


def discriminator_round_trip(trainer: Trainer, folder: Path) -> bool:
    """The exported discriminator, rebuilt from config.json alone, holds exactly the trained tensors."""
    if not trainer.accelerator.is_main_process:
        return True
    from gan_hub import Discriminator
    from gan_hub.hub import DISCRIMINATOR_NAME
    from gan_hub.io import atomic_save_safetensors

    folder.mkdir(parents=True, exist_ok=True)
    trainer.gen_config.save(folder)
    exported = trainer.algorithm.discriminator_export(trainer.accelerator.unwrap_model(trainer.D))
    atomic_save_safetensors(folder / DISCRIMINATOR_NAME, exported)
    rebuilt = Discriminator.from_pretrained(folder).net.state_dict()
    return rebuilt.keys() == exported.keys() and all(
        torch.equal(rebuilt[k].cpu(), v.cpu()) for k, v in exported.items()
    )


def main(out: str, steps: str, *variants: str) -> None:
    results = {}
    for variant in variants:
        folder = Path(out).parent / variant
        generator_options = inspect.signature(ARCHS.get(get_variant(variant).arch).generator).parameters
        small = {"base_channels": 8} if "base_channels" in generator_options else {"hidden_dim": 32}
        cfg = TrainConfig(
            variant=variant,
            dataset="synthetic",
            output_dir=str(folder),
            max_steps=int(steps),
            batch_size=16,
            log_every=1,
            checkpoint_every=1000,
            sample_every=1000,
            eval_every=1000,
            eval_samples=0,
            eval_samples_during_training=0,
            arch_kwargs=small,
            variant_options=SHORT_RUN_OPTIONS.get(variant, {}),
        )
        trainer = Trainer(cfg)
        finite, seen = True, set()
        batches = trainer.batches()
        while trainer.step < cfg.max_steps:
            real, labels = next(batches)
            logs = trainer.train_step(real, labels)
            trainer.step += 1
            seen |= set(logs)
            finite &= all(math.isfinite(v) for v in logs.values())
        acc = trainer.accelerator
        identical = True
        for net in (trainer.G, trainer.D):
            vector = weight_vector(acc.unwrap_model(net)).to(acc.device)
            gathered = acc.gather(vector[None])
            identical &= bool((gathered == gathered[0]).all())
        # D's floating-point buffers (batch-norm statistics are per process by design; the semi-supervised D's
        # fixed weight-norm scales must agree)
        buffers = [
            b.detach().flatten().double() for b in acc.unwrap_model(trainer.D).buffers() if b.is_floating_point()
        ]
        gathered = acc.gather(torch.cat(buffers).to(acc.device)[None]) if buffers else None
        results[variant] = {
            "finite": finite,
            "identical_on_ranks": identical,
            "processes": acc.num_processes,
            "logged": sorted(seen),
            "steps": trainer.step,
            "last_logs": logs,
            "discriminator_round_trip": discriminator_round_trip(trainer, folder / "export"),
            "identical_d_buffers_on_ranks": gathered is None or bool((gathered == gathered[0]).all()),
        }
    if trainer.accelerator.is_main_process:
        Path(out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:])
