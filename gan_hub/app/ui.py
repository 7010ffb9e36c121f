"""The Gradio Blocks of the app: a model picker and the tabs Browse, Sample, Interpolate, Class grid,
Score and Compare. What the events do is in ``handlers.py``.

    from gan_hub.app import build_demo, launch
    demo = build_demo(["path/to/model", "org/repo"])
    launch(demo, host="127.0.0.1", port=7860)
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Iterable

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from . import actions as act  # noqa: E402  (imports no torch: the page is built before torch loads)
from .catalog import DEFAULT_CACHE_SIZE, DEFAULT_ZOO, Catalog  # noqa: E402
from .handlers import ALL, App, ScorerCache, prewarm, user_error  # noqa: E402

COMPUTE = "compute"  # the concurrency group of the events that run a network themselves (score, grids)
COMPUTE_LIMIT = 1  # small CPU machines: one such call at a time
SAMPLE = "sample"  # generate: the forwards are merged by the app's ForwardBatcher, so many requests
SAMPLE_LIMIT = 32  # may wait together; the batcher runs one forward at a time
HUB = "hub"  # adding and searching: bounded by the Hub timeout, apart from the compute queue
HUB_LIMIT = 2
MAX_THREADS = 64  # Gradio's worker threads: the sample events wait on the batcher, not on a core
CSS = """
.pixelated img {
  image-rendering: pixelated; width: 100%; height: 100%; object-fit: contain;
  box-sizing: border-box; padding-top: 2.5rem;  /* scale the small images up, clear of the label */
}
#model-card { max-height: 32rem; overflow-y: auto; }
#score-plot, #score-histogram { padding-top: 2.2rem; }  /* keep the block label off the figure */
.labelled img { object-fit: contain; padding-top: 2.5rem; box-sizing: border-box; }
#model-table thead span { word-break: normal; overflow-wrap: normal; }  /* "classifier IS", not "classifie r IS" */
#model-gallery .caption-label { max-width: calc(100% - 2 * var(--block-label-margin)); }  /* the whole name */
"""
TITLE = "gan-hub: pretrained GANs"
STOPPED = "**Stopped.** The numbers shown are those of the samples scored before Stop."
OUTPUT_HEIGHT = 420  # px; the small images are scaled up (pixelated) to this height


def theme() -> gr.themes.Base:
    return gr.themes.Soft(primary_hue="indigo")


# ---- Gradio-side helpers ------------------------------------------------------------------------
class _RangeMessage:
    """Range errors that name the field: Gradio's own say only 'Value 65 is greater than maximum value 64.'"""

    def _check(self, payload):
        if payload is None:
            raise user_error(f"{self.label} is required")
        whole = all(float(v).is_integer() for v in (self.minimum, self.maximum, getattr(self, "step", 1) or 1))
        try:
            if whole:
                act.check_int(str(self.label), payload, (int(self.minimum), int(self.maximum)))
            else:
                act.check_float(str(self.label), payload, (float(self.minimum), float(self.maximum)))
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


def slider(
    label: str, bounds: tuple[int, int], value: int, step: int = 1, info: str | None = None, elem_id: str | None = None
) -> BoundedSlider:
    return BoundedSlider(
        minimum=bounds[0], maximum=bounds[1], value=value, step=step, label=label, info=info, elem_id=elem_id
    )


def output_image(label: str, **kwargs) -> gr.Image:
    """A generated picture: lossless PNG (Gradio's default output format is WebP), scaled up without blur."""
    return gr.Image(
        label=label,
        type="pil",
        format="png",
        height=OUTPUT_HEIGHT,
        interactive=False,
        elem_classes=["pixelated"],
        **kwargs,
    )


_BUILDING = threading.Lock()


@contextlib.contextmanager
def no_throwaway_server_apps():
    """Gradio builds its whole FastAPI server (some 80 routes) when a Blocks is created and again when its
    ``with`` closes, and launch() builds the one it serves: the first two are replaced unused, and they are
    two thirds of build_demo's time. Skip them, in this thread only, while the Blocks is built."""
    from gradio.routes import App as ServerApp

    with _BUILDING:
        original = ServerApp.__dict__["create_app"]
        builder = threading.get_ident()

        def create_app(blocks, *args, **kwargs):
            if threading.get_ident() == builder:
                return None
            return original.__func__(blocks, *args, **kwargs)

        ServerApp.create_app = staticmethod(create_app)
        try:
            yield
        finally:
            ServerApp.create_app = original


def build_demo(
    models: Iterable[str] | Catalog = (),
    *,
    zoo_dir: str | Path | None = DEFAULT_ZOO,
    cache_size: int = DEFAULT_CACHE_SIZE,
    scorer_weights: dict[str, str | Path] | None = None,
    allowed_roots: Iterable[str | Path] | None = None,
) -> gr.Blocks:
    """The app's Blocks for the zoo's models plus ``models`` (folders or Hub repo ids), or a ready Catalog.

    ``zoo_dir=None`` leaves the bundled zoo out. ``scorer_weights`` overrides a scorer's shipped weights
    file, e.g. ``{"mnist-classifier": "my/model.safetensors"}``. ``allowed_roots``: folders a visitor may
    add models from (default: env GAN_HUB_ALLOWED_ROOTS; none: Hub repo ids only).
    """
    catalog = (
        models
        if isinstance(models, Catalog)
        else Catalog(models, zoo_dir=zoo_dir, cache_size=cache_size, allowed_roots=allowed_roots)
    )
    app = App(catalog, ScorerCache(scorer_weights))
    first = catalog.names[0] if catalog.names else None

    with no_throwaway_server_apps(), gr.Blocks(title=TITLE, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(
            f"# {TITLE}\nBrowse the models, sample them, walk their latent space, compare them and score them live."
        )
        with gr.Row(equal_height=True):
            model = gr.Dropdown(
                choices=catalog.names,
                value=first,
                label="Model",
                scale=2,
                elem_id="model-picker",
                info=f"{len(catalog)} model(s): model_zoo/, --models and the ones you add",
            )
            summary = gr.Markdown(elem_id="model-summary")

        with gr.Tab("Browse", id="browse"):
            with gr.Row():
                variant_filter = gr.Dropdown(choices=[ALL], value=ALL, label="variant", scale=1)
                dataset_filter = gr.Dropdown(choices=[ALL], value=ALL, label="dataset", scale=1)
            gallery = gr.Gallery(
                label="models (click one to select it)",
                columns=6,  # wide enough for the longest zoo name under its thumbnail
                height=420,  # two rows in view
                object_fit="contain",
                allow_preview=False,
                elem_id="model-gallery",
            )
            gallery_names = gr.State([])
            table = gr.Dataframe(
                label="leaderboard (click a column to sort; scores with their protocol)",
                interactive=False,
                wrap=True,
                elem_id="model-table",
                max_height=840,
            )
            with gr.Row():
                with gr.Column(scale=3):
                    card = gr.Markdown(elem_id="model-card")
                with gr.Column(scale=2):
                    samples = gr.Image(
                        label="samples.png", type="filepath", height=320, interactive=False, elem_classes=["pixelated"]
                    )
            folders = " or a folder inside the allowed ones" if catalog.allowed_roots else ""
            with gr.Accordion(f"Add a model: a Hub repo id{folders}", open=False):
                with gr.Row():
                    add_box = gr.Textbox(
                        label=f"Hub repo id (org/name){folders}",
                        scale=3,
                        placeholder="org/dcgan-mnist",
                        elem_id="add-model-box",
                    )
                    add_button = gr.Button("Add", scale=1, elem_id="add-model-button")
                with gr.Row():
                    search_box = gr.Textbox(label="search the Hub for gan-hub models", scale=3, placeholder="mnist")
                    search_button = gr.Button("Search the Hub", scale=1)
                found = gr.Dropdown(choices=[], label="found on the Hub", allow_custom_value=True)
                add_found_button = gr.Button("Add the found model", size="sm")
                add_message = gr.Markdown()

        with gr.Tab("Sample", id="sample"):
            with gr.Row():
                with gr.Column(scale=1):
                    seed = seed_box("seed")
                    random_button = gr.Button("random seed", size="sm")
                    count = slider("count", act.COUNT_RANGE, 16, elem_id="sample-count")
                    truncation = BoundedSlider(
                        minimum=act.TRUNCATION_RANGE[0],
                        maximum=act.TRUNCATION_RANGE[1],
                        value=0.0,
                        step=0.05,
                        label="truncation",
                        info="0 = off; else redraw latent entries with |z| above it",
                    )
                    sample_class = gr.Dropdown(
                        choices=[act.CYCLE],
                        value=act.CYCLE,
                        label="class",
                        allow_custom_value=True,
                        info="conditional models only",
                    )
                    generate_button = gr.Button("Generate", variant="primary", elem_id="generate-button")
                with gr.Column(scale=2):
                    grid = output_image("samples (download: the ⤓ button)", elem_id="sample-output")

        with gr.Tab("Interpolate", id="interpolate"):
            with gr.Row():
                with gr.Column(scale=1):
                    with gr.Row():
                        seed_a = seed_box("seed A", 0)
                        seed_b = seed_box("seed B", 1)
                    steps = slider("steps", act.STEPS_RANGE, 8)
                    method = gr.Radio(list(act.METHODS), value="slerp", label="method")
                    with gr.Row():
                        class_a = gr.Dropdown(
                            choices=[act.NO_CLASS], value=act.NO_CLASS, label="class A", allow_custom_value=True
                        )
                        class_b = gr.Dropdown(
                            choices=[act.NO_CLASS], value=act.NO_CLASS, label="class B", allow_custom_value=True
                        )
                    interpolate_button = gr.Button("Interpolate", variant="primary")
                with gr.Column(scale=2):
                    strip = output_image("frames, seed A → seed B", elem_id="interpolation-output")
                    with gr.Row():
                        animation = gr.Image(
                            label="animation (GIF, there and back)",
                            type="filepath",
                            height=256,
                            interactive=False,
                            elem_classes=["pixelated"],
                            elem_id="animation",
                        )
                        exports = gr.File(
                            label="export: GIF and MP4 video",
                            file_count="multiple",
                            interactive=False,
                            elem_id="exports",
                        )

        with gr.Tab("Class grid", id="class-grid"):
            with gr.Row():
                with gr.Column(scale=1):
                    columns = slider("columns (seeds)", act.COLUMNS_RANGE, 8)
                    start_seed = seed_box("start seed", 0)
                    class_note = gr.Markdown(label="classes")
                    grid_button = gr.Button("Draw class grid", variant="primary")
                with gr.Column(scale=2):
                    class_image = gr.Image(
                        label="rows = classes, columns = seeds",
                        type="pil",
                        format="png",
                        height=OUTPUT_HEIGHT + 120,
                        interactive=False,
                        elem_classes=["labelled"],
                        elem_id="class-grid-output",
                    )
                    class_caption = gr.Markdown(label="caption")

        with gr.Tab("Score", id="score"):
            with gr.Row():
                with gr.Column(scale=1):
                    # choices, the preselected scorer and why others cannot run: set for each model (model_info)
                    scorer = gr.Dropdown(choices=[], label="scorer", elem_id="scorer", allow_custom_value=True)
                    num_samples = slider("N (samples)", act.SCORE_N_RANGE, 1000, step=100, elem_id="score-n")
                    batch_size = slider("batch size", act.BATCH_RANGE, 250, step=10, elem_id="score-batch")
                    score_seed = seed_box("seed", 0)
                    with gr.Row():
                        score_button = gr.Button("Score", variant="primary")
                        stop_button = gr.Button("Stop", variant="stop")
                    score_status = gr.Markdown(elem_id="score-status")
                with gr.Column(scale=2):
                    score_text = gr.Markdown(
                        "Press **Score**: the running classifier IS@n appears after each batch.", elem_id="score-text"
                    )
                    curve = gr.Plot(label="the score as samples stream", elem_id="score-plot")
                    histogram = gr.Plot(label="samples per class (2-D models: per mode)", elem_id="score-histogram")
                    with gr.Accordion("numbers (JSON)", open=False):
                        score_json = gr.JSON(label="numbers")

        with gr.Tab("Compare", id="compare"):
            with gr.Row():
                with gr.Column(scale=1):
                    compare_models = gr.Dropdown(
                        choices=catalog.names,
                        value=catalog.names[:2],
                        multiselect=True,
                        max_choices=act.COMPARE_RANGE[1],
                        label="models (2 to 4)",
                        elem_id="compare-models",
                    )
                    compare_seed = seed_box("seed", 0)
                    compare_count = slider("count", act.COMPARE_COUNT_RANGE, 16)
                    compare_button = gr.Button("Compare", variant="primary")
                with gr.Column(scale=3):
                    comparison = gr.Gallery(
                        label="same seed, each model",
                        columns=2,
                        height=480,
                        format="png",
                        object_fit="contain",
                        elem_id="compare-output",
                    )

        compute = {"concurrency_id": COMPUTE, "concurrency_limit": COMPUTE_LIMIT}
        sample = {"concurrency_id": SAMPLE, "concurrency_limit": SAMPLE_LIMIT}
        hub = {"concurrency_id": HUB, "concurrency_limit": HUB_LIMIT}
        light = {"concurrency_limit": None}
        browse_outputs = [gallery, table, gallery_names, variant_filter, dataset_filter]
        info_outputs = [summary, card, samples, sample_class, class_a, class_b, class_note, scorer, truncation]
        demo.load(app.browse, [variant_filter, dataset_filter], browse_outputs, api_name="browse_on_load", **light)
        demo.load(app.model_info, model, info_outputs, api_name="model_info_on_load", **light)
        gr.on(
            [variant_filter.input, dataset_filter.input],
            app.browse,
            [variant_filter, dataset_filter],
            browse_outputs,
            api_name="browse",
            **light,
        )
        gallery.select(app.pick_from_gallery, gallery_names, model, api_name="pick_from_gallery", **light)
        model.change(app.model_info, model, info_outputs, api_name="model_info", **light)
        added = add_button.click(
            app.add_model, add_box, [model, compare_models, add_message], api_name="add_model", **hub
        )
        added_found = add_found_button.click(
            app.add_model, found, [model, compare_models, add_message], api_name="add_found_model", **hub
        )
        for event in (added, added_found):
            event.success(app.browse, [variant_filter, dataset_filter], browse_outputs, api_name=False, **light)
        search_button.click(app.search, search_box, [found, add_message], api_name="search_hub", **hub)
        random_button.click(act.random_seed, None, seed, api_name="random_seed", **light)
        generate_button.click(
            app.generate, [model, seed, count, sample_class, truncation], grid, api_name="generate", **sample
        )
        # (its forwards go through the batcher too; its GIF and MP4 encoding is the heavy part)
        interpolate_button.click(
            app.interpolate,
            [model, seed_a, seed_b, steps, method, class_a, class_b],
            [strip, animation, exports],
            api_name="interpolate",
            **compute,
        )
        grid_button.click(
            app.class_grid, [model, columns, start_seed], [class_image, class_caption], api_name="class_grid", **compute
        )
        scoring = score_button.click(
            app.score,
            [model, scorer, num_samples, batch_size, score_seed],
            [score_text, curve, histogram, score_json, score_status],
            api_name="score",
            **compute,
        )
        # the status is written once the cancel is done, after any update that was already on its way
        stop_button.click(None, None, None, cancels=[scoring], api_name=False).then(
            lambda: STOPPED, None, score_status, api_name=False, **light
        )
        compare_button.click(
            app.compare, [compare_models, compare_seed, compare_count], comparison, api_name="compare", **compute
        )
    demo.gan_hub_catalog = catalog  # for tests and tools
    demo.gan_hub_app = app
    return demo


def launch(demo: gr.Blocks, host: str | None = None, port: int | None = None, **kwargs):
    """Launch with the app's theme and CSS (Gradio 6 takes them in launch()) and the /v1 HTTP routes on the
    same server; never shares publicly. Blocks like ``demo.launch`` unless ``prevent_thread_lock=True``."""
    from .http_api import SamplingRoutes
    from .memory import cap_arenas, trim_periodically

    cap_arenas()  # before Gradio starts its worker threads
    host = host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = int(port or os.environ.get("GRADIO_SERVER_PORT") or 7860)
    kwargs.pop("share", None)
    block = not kwargs.pop("prevent_thread_lock", False)
    kwargs.setdefault("max_threads", MAX_THREADS)
    result = demo.launch(
        server_name=host, server_port=port, share=False, theme=theme(), css=CSS, prevent_thread_lock=True, **kwargs
    )
    app = getattr(demo, "gan_hub_app", None)
    if app is not None:
        SamplingRoutes(demo.gan_hub_catalog, app.batcher).install(demo.app)
    prewarm()
    trim_periodically()
    if block:
        try:
            demo.block_thread()
        finally:
            close(demo)
    return result


def close(demo: gr.Blocks) -> None:
    """Stop the server, the forward worker, and delete the exports folder."""
    demo.close()
    app = getattr(demo, "gan_hub_app", None)
    if app is not None:
        app.close()
