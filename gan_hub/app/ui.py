"""The Gradio Blocks of the app: one model dropdown, tabs Sample / Interpolate / Class grid / Score.

    from gan_hub.app import build_demo, launch
    demo = build_demo(["path/to/model", "org/repo"])
    launch(demo, host="127.0.0.1", port=7860)
"""
from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from ..metrics import load_scorer  # noqa: E402
from ..metrics.evaluate import SCORER_FOR_DATASET, reference_scores  # noqa: E402
from ..registry import SCORERS  # noqa: E402
from . import actions as act  # noqa: E402
from .catalog import DEFAULT_CACHE_SIZE, DEFAULT_ZOO, Catalog, CatalogError  # noqa: E402

COMPUTE = "compute"          # the one concurrency group of every event that runs a network
COMPUTE_LIMIT = 1            # small CPU machines: one generator/scorer call at a time
CSS = """
.pixelated img {
  image-rendering: pixelated; width: 100%; height: 100%; object-fit: contain;
  box-sizing: border-box; padding-top: 2.5rem;  /* scale the small images up, clear of the label */
}
#model-card { max-height: 20rem; overflow-y: auto; }
"""
TITLE = "gan-hub: pretrained GANs"
OUTPUT_HEIGHT = 420  # px; the small images are scaled up (pixelated) to this height


def theme() -> gr.themes.Base:
    return gr.themes.Soft(primary_hue="indigo")


# ---- Gradio-side helpers ------------------------------------------------------------------------
def user_error(message: str) -> gr.Error:
    """An error shown in the page; not logged with a traceback (it is the user's input, not a bug)."""
    return gr.Error(message, print_exception=False)


class _RangeMessage:
    """Range errors that name the field: Gradio's own say only 'Value 65 is greater than maximum value 64.'"""

    def _check(self, payload):
        if payload is None:
            raise user_error(f"{self.label} is required")
        try:
            act.check_int(str(self.label), payload, (int(self.minimum), int(self.maximum)))
        except act.InputError as err:
            raise user_error(str(err)) from None


class BoundedSlider(gr.Slider, _RangeMessage):
    is_template = True  # rendered by the frontend's Slider

    def preprocess(self, payload):
        self._check(payload)
        return super().preprocess(payload)


class BoundedNumber(gr.Number, _RangeMessage):
    is_template = True  # rendered by the frontend's Number

    def preprocess(self, payload):
        self._check(payload)
        return super().preprocess(payload)


def seed_box(label: str, value: int = 0) -> BoundedNumber:
    lo, hi = act.SEED_RANGE
    return BoundedNumber(value=value, label=label, precision=0, minimum=lo, maximum=hi)


def slider(label: str, bounds: tuple[int, int], value: int, step: int = 1, info: str | None = None) -> BoundedSlider:
    return BoundedSlider(minimum=bounds[0], maximum=bounds[1], value=value, step=step, label=label, info=info)


def output_image(label: str, **kwargs) -> gr.Image:
    """A generated picture: lossless PNG (Gradio's default output format is WebP), scaled up without blur."""
    return gr.Image(label=label, type="pil", format="png", height=OUTPUT_HEIGHT, interactive=False,
                    elem_classes=["pixelated"], **kwargs)


def user_errors(fn: Callable) -> Callable:
    """Turn the errors a user can cause into ``gr.Error`` so their message is shown in the page."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, FileNotFoundError, ConnectionError) as err:
            raise user_error(str(err)) from None

    return wrapper


def user_errors_stream(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            yield from fn(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, FileNotFoundError, ConnectionError) as err:
            raise user_error(str(err)) from None

    return wrapper


def model_summary(config) -> str:
    classes = f"{config.num_classes} classes" if config.conditional else "unconditional"
    return (f"**{config.variant}** (arch `{config.arch}`) · dataset `{config.dataset or 'unspecified'}` · "
            f"{config.channels}×{config.image_size}×{config.image_size} · latent {config.latent_dim} · {classes}")


class ScorerCache:
    """Scorers by name, loaded once; ``weights`` maps a scorer name to a weights file that overrides the shipped one."""

    def __init__(self, weights: dict[str, str | Path] | None = None):
        self.weights = dict(weights or {})
        self._scorers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, name: str):
        with self._lock:
            if name not in self._scorers:
                try:
                    self._scorers[name] = load_scorer(name, weights_path=self.weights.get(name))
                except KeyError as err:  # UnknownNameError
                    raise act.InputError(str(err)) from None
                except (FileNotFoundError, ValueError) as err:
                    raise act.InputError(f"scorer {name} is not available: {err}") from None
            return self._scorers[name]


# ---- the app ------------------------------------------------------------------------------------
class App:
    """The event handlers, bound to a catalog and the scorers (kept apart from the layout for testing)."""

    def __init__(self, catalog: Catalog, scorers: ScorerCache):
        self.catalog, self.scorers = catalog, scorers

    def model_info(self, name: str | None):
        """Card, samples picture and class choices for the selected model."""
        if not name:
            message = "No model selected." if self.catalog.names else (
                "No models found: put model folders in `model_zoo/` or pass `--models` / `GAN_HUB_MODELS`.")
            return (message, None, gr.Dropdown(choices=[act.NO_CLASS], value=act.NO_CLASS, interactive=False),
                    gr.Dropdown(choices=[act.NO_CLASS], value=act.NO_CLASS, interactive=False),
                    gr.Dropdown(choices=[act.NO_CLASS], value=act.NO_CLASS, interactive=False), "", gr.Dropdown())
        try:
            config = self.catalog.config(name)
            card = self.catalog.card(name)
            samples = self.catalog.samples_path(name)
        except (CatalogError, ValueError, OSError) as err:
            raise user_error(str(err)) from None
        text = model_summary(config) + "\n\n" + (card or "*This model has no model card (README.md).*")
        conditional = config.conditional
        names = act.class_choices(config, with_cycle=False)
        sample_classes = act.class_choices(config)
        note = (act.class_caption(config, 8, 0).split(";")[0] + "." if conditional else
                f"**{name}** is unconditional: a class grid needs a class-conditional model.")
        scorer_default = SCORER_FOR_DATASET.get(config.dataset)
        return (
            text,
            str(samples) if samples else None,
            gr.Dropdown(choices=sample_classes, value=sample_classes[0], interactive=conditional),
            gr.Dropdown(choices=names, value=names[0], interactive=conditional),
            gr.Dropdown(choices=names, value=names[1] if len(names) > 1 else names[0], interactive=conditional),
            note,
            gr.Dropdown(value=scorer_default) if scorer_default in SCORERS else gr.Dropdown(),
        )

    @user_errors
    def generate(self, name, seed, count, class_choice):
        return act.sample_grid(self.catalog.load(name), seed, count, class_choice)

    @user_errors
    def interpolate(self, name, seed_a, seed_b, steps, method, class_a, class_b):
        return act.interpolation_strip(self.catalog.load(name), seed_a, seed_b, steps,
                                       method, class_a, class_b)

    @user_errors
    def class_grid(self, name, columns, start_seed):
        return act.class_grid_image(self.catalog.load(name), columns, start_seed)

    @user_errors_stream
    def score(self, name, scorer_name, num_samples, batch_size, seed):
        g = self.catalog.load(name)
        scorer = self.scorers.get(scorer_name)
        reference = act.inception_entries(reference_scores(scorer_name))
        card = [e for e in act.inception_entries(g.metrics) if e.get("scorer") == scorer_name]
        history: list[tuple[int, float]] = []
        for update in act.score_stream(g, scorer, num_samples, batch_size, seed):
            history.append((update.n, update.mean))
            yield (act.score_markdown(update, scorer_name, reference, card),
                   pd.DataFrame(act.score_curve(history, reference, card)),
                   act.score_payload(update, scorer_name, int(seed), int(batch_size)))


def build_demo(models: Iterable[str] | Catalog = (), *, zoo_dir: str | Path | None = DEFAULT_ZOO,
               cache_size: int = DEFAULT_CACHE_SIZE, scorer_weights: dict[str, str | Path] | None = None) -> gr.Blocks:
    """The app's Blocks for the zoo's models plus ``models`` (folders or Hub repo ids), or a ready Catalog.

    ``zoo_dir=None`` leaves the bundled zoo out. ``scorer_weights`` overrides a scorer's shipped weights
    file, e.g. ``{"mnist-classifier": "my/model.safetensors"}``.
    """
    catalog = models if isinstance(models, Catalog) else Catalog(models, zoo_dir=zoo_dir, cache_size=cache_size)
    app = App(catalog, ScorerCache(scorer_weights))
    first = catalog.names[0] if catalog.names else None
    scorer_names = SCORERS.names()

    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\nBrowse the models, sample them, walk their latent space and score them live.")
        with gr.Row():
            model = gr.Dropdown(choices=catalog.names, value=first, label="Model", scale=3,
                                info=f"{len(catalog)} model(s): model_zoo/ and --models")
        with gr.Row():
            with gr.Column(scale=3):
                card = gr.Markdown(label="model card", elem_id="model-card")
            with gr.Column(scale=2):
                samples = gr.Image(label="samples.png", type="filepath", height=320, interactive=False,
                                   elem_classes=["pixelated"])

        with gr.Tab("Sample"):
            with gr.Row():
                with gr.Column(scale=1):
                    seed = seed_box("seed")
                    random_button = gr.Button("random seed", size="sm")
                    count = slider("count", act.COUNT_RANGE, 16)
                    sample_class = gr.Dropdown(choices=[act.CYCLE], value=act.CYCLE, label="class",
                                               allow_custom_value=True, info="conditional models only")
                    generate_button = gr.Button("Generate", variant="primary", elem_id="generate-button")
                with gr.Column(scale=2):
                    grid = output_image("samples", elem_id="sample-output")

        with gr.Tab("Interpolate"):
            with gr.Row():
                with gr.Column(scale=1):
                    with gr.Row():
                        seed_a = seed_box("seed A", 0)
                        seed_b = seed_box("seed B", 1)
                    steps = slider("steps", act.STEPS_RANGE, 8)
                    method = gr.Radio(list(act.INTERPOLATIONS), value="slerp", label="method")
                    with gr.Row():
                        class_a = gr.Dropdown(choices=[act.NO_CLASS], value=act.NO_CLASS, label="class A",
                                              allow_custom_value=True)
                        class_b = gr.Dropdown(choices=[act.NO_CLASS], value=act.NO_CLASS, label="class B",
                                              allow_custom_value=True)
                    interpolate_button = gr.Button("Interpolate", variant="primary")
                with gr.Column(scale=2):
                    strip = output_image("frames, seed A → seed B")

        with gr.Tab("Class grid"):
            with gr.Row():
                with gr.Column(scale=1):
                    columns = slider("columns (seeds)", act.COLUMNS_RANGE, 8)
                    start_seed = seed_box("start seed", 0)
                    class_note = gr.Markdown(label="classes")
                    grid_button = gr.Button("Draw class grid", variant="primary")
                with gr.Column(scale=2):
                    class_image = output_image("rows = classes, columns = seeds")
                    class_caption = gr.Markdown(label="caption")

        with gr.Tab("Score"):
            with gr.Row():
                with gr.Column(scale=1):
                    scorer = gr.Dropdown(choices=scorer_names, value=scorer_names[0] if scorer_names else None,
                                         label="scorer")
                    num_samples = slider("N (samples)", act.SCORE_N_RANGE, 1000, step=100)
                    batch_size = slider("batch size", act.BATCH_RANGE, 250, step=10)
                    score_seed = seed_box("seed", 0)
                    score_button = gr.Button("Score", variant="primary")
                with gr.Column(scale=2):
                    score_text = gr.Markdown("Press **Score**: the running classifier IS@n appears after each batch.",
                                             label="score")
                    # None, not an empty DataFrame: a LinePlot that starts empty never draws its lines later (Gradio 6.31)
                    curve = gr.LinePlot(None, x="n", y="IS", color="series", x_title="n (samples scored)",
                                        y_title="classifier IS@n", label="IS vs n")
                    with gr.Accordion("numbers (JSON)", open=False):
                        score_json = gr.JSON(label="numbers")

        compute = dict(concurrency_id=COMPUTE, concurrency_limit=COMPUTE_LIMIT)
        info_outputs = [card, samples, sample_class, class_a, class_b, class_note, scorer]
        model.change(app.model_info, model, info_outputs, api_name="model_info", concurrency_limit=None)
        demo.load(app.model_info, model, info_outputs, api_name="model_info_on_load", concurrency_limit=None)
        random_button.click(act.random_seed, None, seed, api_name="random_seed", concurrency_limit=None)
        generate_button.click(app.generate, [model, seed, count, sample_class], grid, api_name="generate", **compute)
        interpolate_button.click(app.interpolate, [model, seed_a, seed_b, steps, method, class_a, class_b], strip,
                                 api_name="interpolate", **compute)
        grid_button.click(app.class_grid, [model, columns, start_seed], [class_image, class_caption],
                          api_name="class_grid", **compute)
        score_button.click(app.score, [model, scorer, num_samples, batch_size, score_seed],
                           [score_text, curve, score_json], api_name="score", **compute)
    demo.gan_hub_catalog = catalog  # for tests and tools
    return demo


def launch(demo: gr.Blocks, host: str | None = None, port: int | None = None, **kwargs):
    """Launch with the app's theme and CSS (Gradio 6 takes them in launch()); never shares publicly."""
    host = host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = int(port or os.environ.get("GRADIO_SERVER_PORT") or 7860)
    kwargs.pop("share", None)
    return demo.launch(server_name=host, server_port=port, share=False, theme=theme(), css=CSS, **kwargs)
