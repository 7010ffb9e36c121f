"""The app's HTTP routes beside the UI, on the FastAPI app that Gradio serves:

    GET /v1/models                                   the catalog (JSON): each model's config and scores with protocol
    GET /v1/models/{name}/samples.png?n=16&seed=0&labels=3&truncation=0.7    a PNG grid

The sample route validates like the UI (``actions``): a bad parameter is a 4xx JSON answer
``{"error": "...", "parameter": "n"}``. Its forwards go through the app's ForwardBatcher, so requests
for the same model that arrive together share one forward; the route awaits that forward without
holding a thread.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import fastapi
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from . import actions as act
from .batching import BusyError, ForwardBatcher
from .catalog import Catalog, CatalogError
from .leaderboard import model_record

PREFIX = "/v1"
SAMPLE_PARAMETERS = ("n", "seed", "labels", "truncation")
DEFAULT_N = 16


def error(status: int, message: str, parameter: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if parameter:
        body["parameter"] = parameter
    return JSONResponse(body, status_code=status)


def png_bytes(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="png")
    return buffer.getvalue()


def picture_png(g, samples, seed: int) -> bytes:
    """The Sample tab's picture as PNG: an image grid, or a 2-D model's scatter plot over its modes."""
    return png_bytes(act.sample_picture(g, samples, seed))


class SamplingRoutes:
    """The /v1 routes of one catalog; ``install(app)`` adds them to a FastAPI app."""

    def __init__(self, catalog: Catalog, batcher: ForwardBatcher):
        self.catalog, self.batcher = catalog, batcher

    def install(self, app: fastapi.FastAPI) -> None:
        router = fastapi.APIRouter(prefix=PREFIX)
        router.add_api_route("/models", self.models, methods=["GET"])
        router.add_api_route("/models/{name:path}/samples.png", self.samples, methods=["GET"], response_class=Response)
        router.add_api_route(
            "/models/{name:path}/thumbnail.png", self.thumbnail, methods=["GET"], response_class=Response
        )
        app.include_router(router)

    def models(self) -> JSONResponse:
        return JSONResponse({"models": [model_record(self.catalog, name) for name in self.catalog.names]})

    def thumbnail(self, name: str) -> Response:
        """The model's own samples.png (the picture its card shows)."""
        if name not in self.catalog:
            return error(404, f"unknown model {name!r}; GET {PREFIX}/models lists them", "name")
        try:
            path = self.catalog.samples_path(name)
        except (CatalogError, OSError):
            path = None
        if path is None:
            return error(404, f"model {name!r} has no samples.png", "name")
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    def inputs(self, name: str, query) -> tuple:
        """The model (loaded on first use), the checked seed, and the forward's latents and labels: one trip to
        the thread pool, since a lone request pays for each."""
        g = self.catalog.load(name)
        seed = act.check_int("seed", query.get("seed", 0), act.SEED_RANGE)
        count = act.sample_size(g, act.check_int("n", query.get("n", DEFAULT_N), act.COUNT_RANGE))
        labels = act.parse_labels(g.config, query.get("labels"), count)
        threshold = act.check_truncation(g, query.get("truncation"))
        return (g, seed, *act.sample_inputs(g, seed, count, labels, threshold))

    async def samples(self, name: str, request: fastapi.Request) -> Response:
        query = request.query_params
        unknown = sorted(set(query) - set(SAMPLE_PARAMETERS))
        if unknown:
            return error(
                400, f"unknown parameter {unknown[0]!r}; this route takes {', '.join(SAMPLE_PARAMETERS)}", unknown[0]
            )
        if name not in self.catalog:
            return error(404, f"unknown model {name!r}; GET {PREFIX}/models lists them", "name")
        try:
            g, seed, z, ids = await run_in_threadpool(self.inputs, name, query)
            images = await asyncio.wrap_future(self.batcher.submit(name, z, ids))
        except act.InputError as err:
            return error(422, str(err), err.field)
        except CatalogError as err:
            return error(503, f"model {name!r} cannot be served now: {err}", "name")
        except BusyError as err:
            return error(503, f"the server is busy: {err}")
        body = await run_in_threadpool(picture_png, g, images, seed)
        return Response(
            body,
            media_type="image/png",
            headers={"Content-Disposition": f'inline; filename="{name.replace("/", "_")}-{seed}.png"'},
        )


__all__ = ["PREFIX", "SamplingRoutes", "png_bytes"]
