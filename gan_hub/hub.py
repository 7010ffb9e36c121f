"""The user-facing ``Generator``: loads any variant from a folder or the Hub, samples, saves, pushes."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Sequence

import torch
from huggingface_hub import ModelHubMixin, snapshot_download
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError
from torch import nn

from . import archs  # noqa: F401  (registers architectures)
from .config import CONFIG_NAME, ConfigError, GeneratorConfig
from .io import CheckpointError, atomic_save_safetensors, atomic_write_text, load_state_strict  # noqa: F401
from .nn.info import INFO_OPTIONS, CodeLayout, find_info_generator, with_info_codes
from .registry import ARCHS
from .validation import check_class, check_classes, check_int, check_labels, check_seed, check_seeds, looks_local, read_json_object, unreachable_message
from .sampling import (
    grid_columns,
    image_grid,
    interpolate_latents,
    lerp,
    latent_for_seed,
    latents,
    to_uint8,
)

WEIGHTS_NAME = "model.safetensors"
DISCRIMINATOR_NAME = "discriminator.safetensors"
METRICS_NAME = "metrics.json"
SAMPLES_NAME = "samples.png"
CARD_NAME = "README.md"
HUB_FILES = [CONFIG_NAME, WEIGHTS_NAME, METRICS_NAME, CARD_NAME, SAMPLES_NAME]


# Network options that any architecture accepts: applied around the architecture's own layers.
GENERATOR_OPTIONS = ("g_norm", "g_vbn_reference_size")
DISCRIMINATOR_OPTIONS = ("d_spectral_norm", "d_minibatch")


def _arch_kwargs(config: GeneratorConfig) -> dict:
    return {k: v for k, v in config.arch_kwargs.items() if k not in GENERATOR_OPTIONS + DISCRIMINATOR_OPTIONS + INFO_OPTIONS}


def build_generator_network(config: GeneratorConfig) -> nn.Module:
    spec = ARCHS.get(config.arch)
    net = spec.generator(latent_dim=config.latent_dim, channels=config.channels, image_size=config.image_size,
                         num_classes=config.num_classes, **_arch_kwargs(config))
    g_norm = config.arch_kwargs.get("g_norm", "batch")
    if g_norm == "virtual-batch":
        from .nn.virtual_batch_norm import with_virtual_batch_norm

        net = with_virtual_batch_norm(net, config.latent_dim, config.num_classes,
                                      reference_size=config.arch_kwargs.get("g_vbn_reference_size", 64))
    elif g_norm != "batch":
        raise ValueError(f"g_norm must be 'batch' or 'virtual-batch', got {g_norm!r}")
    layout = CodeLayout.from_options(config.latent_dim, config.arch_kwargs)  # InfoGAN: codes read from the latent
    return net if layout is None else with_info_codes(net, layout)


def build_discriminator_network(config: GeneratorConfig, arch: str | None = None, **options) -> nn.Module:
    """The architecture's discriminator, with spectral norm and a minibatch-discrimination layer when asked.

    ``arch`` names another registered architecture whose discriminator to use (e.g. an autoencoder
    for energy-based variants). ``options`` (``d_spectral_norm``, ``d_minibatch``) come from the run's
    techniques; they may also be in ``config.arch_kwargs``.
    """
    spec = ARCHS.get(arch or config.arch)
    options = {**{k: v for k, v in config.arch_kwargs.items() if k in DISCRIMINATOR_OPTIONS}, **options}
    unknown = set(options) - set(DISCRIMINATOR_OPTIONS)
    if unknown:
        raise ValueError(f"unknown discriminator option(s) {sorted(unknown)}; known: {list(DISCRIMINATOR_OPTIONS)}")
    net = spec.discriminator(channels=config.channels, image_size=config.image_size,
                             num_classes=config.num_classes, **_arch_kwargs(config))
    if options.get("d_minibatch"):
        from .nn.minibatch import add_minibatch_discrimination

        net = add_minibatch_discrimination(net, **dict(options["d_minibatch"]))
    if options.get("d_spectral_norm"):
        from .nn.spectral import apply_spectral_norm

        net = apply_spectral_norm(net)
    return net


def resolve_model_folder(name_or_path: str | Path, revision: str | None = None, **hub_kwargs) -> Path:
    """A local folder as is; otherwise download the Hub repo's generator files and return the snapshot."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    if path.exists() or looks_local(name_or_path):
        raise FileNotFoundError(f"no such folder: {name_or_path} (from {Path.cwd()}); give a model folder or a Hub repo id ORG/NAME")
    try:
        return Path(snapshot_download(str(name_or_path), revision=revision, allow_patterns=HUB_FILES, **hub_kwargs))
    except RepositoryNotFoundError as err:
        raise FileNotFoundError(f"{name_or_path!r} is neither a local folder nor a Hub repo you can access") from err
    except LocalEntryNotFoundError as err:  # offline, or the endpoint unreachable, and nothing cached
        raise FileNotFoundError(unreachable_message(name_or_path)) from err
    except RevisionNotFoundError as err:
        raise FileNotFoundError(f"revision {revision!r} not found in Hub repo {name_or_path!r}") from err
    except HfHubHTTPError as err:
        raise ConnectionError(f"could not download {name_or_path!r} from the Hub: {err}") from err


class Generator(nn.Module, ModelHubMixin, library_name="gan-hub", tags=["gan"], repo_url="https://github.com/gan-hub/gan-hub"):
    """A pretrained GAN generator of any registered variant.

    >>> g = Generator.from_pretrained("model_zoo/dcgan-mnist")
    >>> g.generate(16, seed=0).shape
    torch.Size([16, 1, 28, 28])
    """

    def __init__(self, config: GeneratorConfig, metrics: dict[str, Any] | None = None):
        super().__init__()
        self.config = config
        self.metrics = metrics
        self.net = build_generator_network(config)
        self.eval()

    # ---- loading and saving -------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, *, revision: str | None = None,
                        map_location: str | torch.device = "cpu", **hub_kwargs) -> "Generator":
        folder = resolve_model_folder(pretrained_model_name_or_path, revision=revision, **hub_kwargs)
        config, metrics = GeneratorConfig.load(folder), _read_json(folder / METRICS_NAME)
        try:
            model = cls(config, metrics=metrics)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{folder / CONFIG_NAME} does not describe a buildable {config.arch} network: {err}") from err
        load_state_strict(model.net, folder / WEIGHTS_NAME, f"{config.variant} generator",
                          "The weights and config.json come from different models: re-export them together.")
        return model.to(map_location).eval()

    def save_pretrained(self, save_directory: str | Path, *, config=None, repo_id=None, push_to_hub: bool = False,
                        model_card_kwargs: dict | None = None, weights_dtype: torch.dtype | None = None,
                        **push_to_hub_kwargs):
        """Write the Hub layout: config.json, model.safetensors, README.md, samples.png, metrics.json.

        ``weights_dtype`` (e.g. torch.float16) stores the floating-point tensors in that type, halving
        the file; the weights are rounded to it in memory first, so samples.png and any scores measured
        afterwards are exactly what a loaded copy produces. Files are written to a staging folder and then
        moved in one by one, so an interrupted save never leaves a truncated file.
        """
        if weights_dtype is not None:
            self.round_weights_to(weights_dtype)
        target = Path(save_directory)
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target, prefix=".staging-") as staging:
            staging = Path(staging)
            self.config.save(staging)
            state = {k: v.to(weights_dtype) if weights_dtype is not None and v.is_floating_point() else v
                     for k, v in self.net.state_dict().items()}
            atomic_save_safetensors(staging / WEIGHTS_NAME, state, metadata={"format": "pt"})
            if self.metrics is not None:
                atomic_write_text(staging / METRICS_NAME, json.dumps(self.metrics, indent=2) + "\n")
            self.sample_grid().save(staging / SAMPLES_NAME)
            self.generate_model_card(**(model_card_kwargs or {})).save(staging / CARD_NAME)
            for item in staging.iterdir():
                item.replace(target / item.name)
        if push_to_hub:
            return self.push_to_hub(repo_id or target.name, model_card_kwargs=model_card_kwargs, **push_to_hub_kwargs)
        return None

    @torch.no_grad()
    def round_weights_to(self, dtype: torch.dtype) -> "Generator":
        """Round every floating-point parameter and buffer to ``dtype`` and back, in place."""
        for tensor in list(self.net.parameters()) + list(self.net.buffers()):
            if tensor.is_floating_point():
                tensor.copy_(tensor.to(dtype))
        return self

    def generate_model_card(self, *args, **kwargs):
        from .cards import render_model_card

        return render_model_card(self.config, self.metrics)

    # ---- sampling ------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def _labels(self, n: int, labels: Sequence[int | str] | torch.Tensor | None) -> torch.Tensor | None:
        return check_labels(labels, n, self.config)

    def class_index(self, label: int | str) -> int:
        return check_class(self.config, label)

    def generate_from_latents(self, z: torch.Tensor, labels: torch.Tensor | None = None, batch_size: int = 500) -> torch.Tensor:
        """uint8 images [N, C, H, W] for latents z (and labels for conditional models)."""
        batch_size = check_int("batch_size", batch_size, minimum=1)
        return self._batched(len(z), batch_size, lambda s: self.net(
            z[s].to(self.device), None if labels is None else labels[s].to(self.device)))

    @property
    def supports_truncation(self) -> bool:
        """False where the latent carries more than i.i.d. normal noise (InfoGAN codes, MIX+GAN's component pick)."""
        return not any(getattr(m, "structured_latent", False) for m in self.net.modules())

    def generate(self, n: int, seed: int = 0, labels=None, batch_size: int = 500, codes: dict | None = None,
                 truncation: float | None = None) -> torch.Tensor:
        """n images as uint8 [n, C, H, W]; the same seed gives the same images.

        ``truncation`` (the truncation trick): redraw latent entries with |z| above it, trading variety
        for typical samples (see :func:`gan_hub.sampling.latents`); refused where
        :attr:`supports_truncation` is False.

        ``codes`` (InfoGAN models only) fixes latent codes; what it leaves out is drawn from the seed:
        ``{"categorical": 3}`` (one category for all, or a list of n ints, or probabilities [n, K]),
        ``{"continuous": [0.5, None]}`` (one value per code for all samples, None keeps the seed's; or
        [n, C] rows). Values outside the training range [-1, 1] extrapolate. See :meth:`latent_codes`.
        """
        n, seed, batch_size = check_int("n", n, minimum=0), check_seed("seed", seed), check_int("batch_size", batch_size, minimum=1)
        if truncation is not None and not self.supports_truncation:
            raise ValueError(f"{self.config.variant} models do not support truncation: part of their latent is not "
                             "normal noise (codes or a mixture component); sample without it")
        z, labels = latents(n, self.config.latent_dim, seed, truncation), self._labels(n, labels)
        if codes is None:
            return self.generate_from_latents(z, labels, batch_size)
        info = self._info_network()
        noise, categorical, continuous = info.layout.split(z)
        categorical, continuous = info.layout.resolve_codes(n, codes, categorical, continuous)
        return self._batched(n, batch_size, lambda s: info.from_codes(
            noise[s].to(self.device), None if categorical is None else categorical[s],
            None if continuous is None else continuous[s], None if labels is None else labels[s].to(self.device)))

    def latent_codes(self, n: int, seed: int = 0) -> dict[str, torch.Tensor]:
        """The InfoGAN codes that ``generate(n, seed)`` uses: {"categorical": int64 [n], "continuous": [n, C]}
        (a key only for the codes the model has)."""
        layout = self._info_network().layout
        _, categorical, continuous = layout.split(latents(n, self.config.latent_dim, seed))
        return {k: v for k, v in (("categorical", categorical), ("continuous", continuous)) if v is not None}

    def _info_network(self):
        info = find_info_generator(self.net)
        if info is None:
            raise ValueError(f"{self.config.variant} model has no latent codes (InfoGAN models have): call it without codes")
        return info

    @torch.inference_mode()
    def _batched(self, n: int, batch_size: int, run) -> torch.Tensor:
        """uint8 images from ``run(slice)`` over ``n`` samples, ``batch_size`` at a time."""
        out = [to_uint8(run(slice(start, start + batch_size))) for start in range(0, n, batch_size)]
        return torch.cat(out) if out else torch.empty(0, self.config.channels, self.config.image_size,
                                                      self.config.image_size, dtype=torch.uint8)

    # ---- encoders (BiGAN) ----------------------------------------------------------------------
    def _encoder_network(self) -> nn.Module:
        if not callable(getattr(self.net, "encode", None)):
            raise ValueError(f"{self.config.variant} model has no encoder (BiGAN models have): it cannot encode images")
        return self.net

    def _image_batch(self, images: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        shape = (cfg.channels, cfg.image_size, cfg.image_size)
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != shape:
            raise ValueError(f"expected images [N, {', '.join(map(str, shape))}], got "
                             f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
        return images.float().div(127.5).sub(1.0) if images.dtype == torch.uint8 else images.float()

    @torch.inference_mode()
    def encode(self, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """Latents [N, latent_dim] (float32, CPU) of images: uint8 [N, C, H, W], or floats already in [-1, 1]."""
        encoder, x, batch_size = self._encoder_network(), self._image_batch(images), check_int("batch_size", batch_size, minimum=1)
        out = [encoder.encode(x[start:start + batch_size].to(self.device)).float().cpu()
               for start in range(0, len(x), batch_size)]
        return torch.cat(out) if out else torch.empty(0, self.config.latent_dim)

    def reconstruct(self, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """G(E(x)): uint8 images [N, C, H, W] generated from the encodings of ``images``."""
        return self.generate_from_latents(self.encode(images, batch_size), batch_size=batch_size)

    def interpolate(self, seed_a: int = 0, seed_b: int = 1, steps: int = 8, method: str = "slerp",
                    label_a: int | str | None = None, label_b: int | str | None = None) -> torch.Tensor:
        """Frames [steps, C, H, W] from the latent of seed_a to that of seed_b (and label_a to label_b)."""
        return self.generate_from_latents(*self.interpolation_inputs(seed_a, seed_b, steps, method, label_a, label_b))

    def interpolation_inputs(self, seed_a: int = 0, seed_b: int = 1, steps: int = 8, method: str = "slerp",
                             label_a: int | str | None = None, label_b: int | str | None = None):
        """(z [steps, latent_dim], labels [steps, K] or None) of :meth:`interpolate`, to generate piecewise."""
        dim, seed_a, seed_b = self.config.latent_dim, check_seed("seed_a", seed_a), check_seed("seed_b", seed_b)
        z = interpolate_latents(latent_for_seed(seed_a, dim), latent_for_seed(seed_b, dim), steps, method)
        labels = None
        if self.config.conditional:
            first = self.class_index(0 if label_a is None else label_a)
            last = first if label_b is None else self.class_index(label_b)
            codes = torch.eye(self.config.num_classes)
            labels = lerp(codes[first], codes[last], torch.linspace(0, 1, steps))
        elif label_a is not None or label_b is not None:
            raise ValueError(f"{self.config.variant} model is not class-conditional: interpolate without labels")
        return z, labels

    def class_grid(self, seeds: Sequence[int], classes: Sequence[int | str] | None = None) -> torch.Tensor:
        """Rows are classes, columns are seeds: uint8 [len(classes) * len(seeds), C, H, W]."""
        if not self.config.conditional:
            raise ValueError(f"{self.config.variant} model is not class-conditional: it has no class grid")
        seeds, class_ids = check_seeds("seeds", seeds), check_classes(self.config, classes)
        z = torch.stack([latent_for_seed(s, self.config.latent_dim) for s in seeds])
        z = z.repeat(len(class_ids), 1)
        labels = torch.tensor(class_ids).repeat_interleave(len(seeds))
        return self.generate_from_latents(z, labels)

    def sample_grid(self, seed: int = 0, per_class: int = 10):
        """The picture saved as samples.png: class rows for conditional models, else an 8x8 grid."""
        if self.config.conditional:
            return image_grid(self.class_grid(range(seed, seed + per_class)), nrow=per_class)
        return image_grid(self.generate(64, seed=seed), nrow=grid_columns(64))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z, labels)


def _read_json(path: Path) -> dict | None:
    return read_json_object(path, "the model's scores")

