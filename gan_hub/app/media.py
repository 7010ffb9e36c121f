"""Pictures and animations the app hands out: labelled grids, GIF and MP4 of interpolation frames.

All inputs are uint8 image batches [N, C, H, W] as ``Generator.generate`` returns them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from PIL import Image, ImageDraw, ImageFont

from ..sampling import image_grid

MIN_CELL = 64  # px: cells are scaled up (nearest) to at least this before text is drawn beside them
FRAME_SIZE = 256  # px: frames of the animations are scaled up to about this size
LABEL_FONT_SIZE = 22


def _font(size: int = LABEL_FONT_SIZE) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def upscale(image: Image.Image, factor: int) -> Image.Image:
    return image if factor <= 1 else image.resize((image.width * factor, image.height * factor), Image.NEAREST)


def labelled_grid(
    images: torch.Tensor, nrow: int, row_names: Sequence[str], column_names: Sequence[str] = (), padding: int = 2
) -> Image.Image:
    """A grid with ``nrow`` images per row, scaled up, each row named on the left (and columns on top)."""
    rows = -(-len(images) // nrow)
    if len(row_names) != rows:
        raise ValueError(f"{rows} rows need {rows} names, got {len(row_names)}")
    if column_names and len(column_names) != nrow:
        raise ValueError(f"{nrow} columns need {nrow} names, got {len(column_names)}")
    cell = images.shape[-1]
    factor = max(1, -(-MIN_CELL // cell))
    grid = upscale(image_grid(images, nrow=nrow, padding=padding), factor).convert("RGB")
    font, draw_probe = _font(), ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_width = lambda text: int(draw_probe.textlength(text, font=font))  # noqa: E731
    left = max(text_width(name) for name in row_names) + 12
    top = LABEL_FONT_SIZE + 10 if column_names else 0
    canvas = Image.new("RGB", (grid.width + left, grid.height + top), "white")
    canvas.paste(grid, (left, top))
    draw = ImageDraw.Draw(canvas)
    step = (cell + padding) * factor
    for r, name in enumerate(row_names):
        y = top + padding * factor + r * step + cell * factor // 2
        draw.text((left - 6, y), name, fill="black", font=font, anchor="rm")
    for c, name in enumerate(column_names):
        x = left + padding * factor + c * step + cell * factor // 2
        draw.text((x, top - 4), name, fill="black", font=font, anchor="md")
    return canvas


def frame_images(frames: torch.Tensor, size: int = FRAME_SIZE) -> list[Image.Image]:
    """uint8 frames [N, C, H, W] -> RGB PIL images scaled up (nearest) to about ``size`` px, even sides."""
    factor = max(1, size // frames.shape[-1])
    out = []
    for frame in frames:
        array = frame.permute(1, 2, 0).numpy()
        image = Image.fromarray(array[:, :, 0] if frame.shape[0] == 1 else array).convert("RGB")
        image = upscale(image, factor)
        if image.width % 2 or image.height % 2:  # H.264 with 4:2:0 chroma needs even sides
            image = image.crop((0, 0, image.width // 2 * 2, image.height // 2 * 2))
        out.append(image)
    return out


def boomerang(images: list[Image.Image]) -> list[Image.Image]:
    """Forward then back (end points not repeated), so a looping animation has no jump."""
    return images + images[-2:0:-1]


def write_gif(frames: torch.Tensor, path: str | Path, fps: float = 8.0) -> Path:
    """An endlessly looping GIF of the frames, there and back."""
    if len(frames) == 0:
        raise ValueError("no frames to write")
    images = boomerang(frame_images(frames))
    path = Path(path)
    images[0].save(
        path, format="GIF", save_all=True, append_images=images[1:], loop=0, duration=int(round(1000 / fps)), disposal=2
    )
    return path


def write_mp4(frames: torch.Tensor, path: str | Path, fps: int = 8) -> Path:
    """An H.264 MP4 (yuv420p, plays in browsers) of the frames, there and back, encoded by PyAV."""
    import av

    if len(frames) == 0:
        raise ValueError("no frames to write")
    images = boomerang(frame_images(frames))
    path = Path(path)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=int(fps))
        stream.width, stream.height = images[0].size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18"}
        for image in images:
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


__all__ = ["boomerang", "frame_images", "labelled_grid", "upscale", "write_gif", "write_mp4"]
