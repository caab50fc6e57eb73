"""Media facts read from the bytes themselves (never from names or headers): format, size, duration, thumbnail."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import av
from PIL import Image, ImageOps, UnidentifiedImageError

THUMBNAIL_LONG_SIDE = 320
IMAGE_FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}
WEBP_MAX_SIDE = 16383
FIT_QUALITIES = (92, 85, 75)
FIT_DOWNSCALE_STEP = 0.75
# What the decoders raise on damaged or truncated data (Pillow's C decoders report most as OSError).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
_RESAMPLE_MODES = {"L", "LA", "RGB", "RGBA", "RGBa", "La"}
PREVIEW_LONG_SIDE = 4 * THUMBNAIL_LONG_SIDE
"""A palette or 1-bit image is first shrunk to this (nearest neighbour, any mode) before its colour conversion."""
DECODES_AT_ONCE = 2
"""Images one process decodes at a time: each can take a few hundred MB at the pixel cap, so a burst of uploads or
results queues here instead of multiplying the memory (and never occupies the event loop's default threads)."""

_DECODE_POOL = ThreadPoolExecutor(max_workers=DECODES_AT_ONCE, thread_name_prefix="image-decode")
_P = ParamSpec("_P")
_T = TypeVar("_T")


async def in_decode_pool(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run an image/video decoding function off the event loop, at most DECODES_AT_ONCE at a time."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_DECODE_POOL, lambda: func(*args, **kwargs))


NOT_AN_IMAGE = "The file is not a PNG, JPEG or WebP image."
NOT_COMPLETE = "The file is not a complete image (it may be truncated or damaged); upload it again."


class UnsupportedMedia(ValueError):
    """Bytes we cannot accept as an image or video; the message is a sentence for a person."""


@dataclass(frozen=True)
class MediaInfo:
    extension: str
    mime_type: str
    width: int
    height: int
    duration_seconds: float | None = None


def check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise UnsupportedMedia(
            f"The image is {width} x {height} pixels ({width * height / 1e6:.1f} megapixels); "
            f"images may have at most {max_pixels / 1e6:g} megapixels."
        )


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open from the header only (nothing is decoded yet) and refuse what is not allowed or too large."""
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise UnsupportedMedia(
            f"The image has too many pixels (at most {max_pixels / 1e6:g} megapixels)."
        ) from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedMedia(NOT_AN_IMAGE) from exc
    except _DECODE_ERRORS as exc:
        raise UnsupportedMedia(NOT_COMPLETE) from exc
    try:
        if image.format not in IMAGE_FORMATS:
            raise UnsupportedMedia(
                f"{image.format or 'This format'} is not supported; use PNG, JPEG or WebP."
            )
        check_pixels(*image.size, max_pixels)
    except UnsupportedMedia:
        image.close()
        raise
    return image


def read_image(data: bytes, max_pixels: int) -> tuple[MediaInfo, bytes]:
    """The image's facts and a JPEG thumbnail. The pixel count is checked from the header before any decoding,
    a JPEG is decoded at reduced scale (`draft`), and a truncated or damaged file is refused. CPU-bound: call it
    off the event loop."""
    with _open(data, max_pixels) as image:
        fmt = str(image.format)
        width, height = image.size
        try:
            image.draft("RGB", (THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE))  # JPEG only; others ignore it
            image.load()  # decodes the whole stream: a truncated file fails here
            thumbnail = _thumbnail(image)
        except _DECODE_ERRORS as exc:
            raise UnsupportedMedia(NOT_COMPLETE) from exc
    extension, mime = IMAGE_FORMATS[fmt]
    return MediaInfo(extension, mime, width, height), thumbnail


def _thumbnail(image: Image.Image) -> bytes:
    if image.mode not in _RESAMPLE_MODES:  # palette, 1-bit, CMYK, 16-bit: resample in a full-colour mode
        if max(image.size) > PREVIEW_LONG_SIDE:
            # Shrink first (nearest neighbour works in every mode), so the colour copy is small, not full-size.
            scale = PREVIEW_LONG_SIDE / max(image.size)
            image = image.resize(
                (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                Image.Resampling.NEAREST,
            )
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    image.thumbnail((THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE))  # resize first, then convert the small copy
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=82)
    return buffer.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info


def fit_image(data: bytes, max_bytes: int, max_pixels: int) -> bytes:
    """A copy of the image of at most `max_bytes`: the same pixels re-encoded (JPEG, or WebP when the image has
    transparency) at falling quality, then scaled down by steps until it fits. EXIF orientation is applied and the
    colour profile kept. CPU-bound: call it off the event loop."""
    with _open(data, max_pixels) as image:
        try:
            image.load()
            ImageOps.exif_transpose(image, in_place=True)  # no full-size copy
        except _DECODE_ERRORS as exc:
            raise UnsupportedMedia(NOT_COMPLETE) from exc
        try:
            return _encode_within(image, max_bytes, image.info.get("icc_profile"))
        except _DECODE_ERRORS as exc:  # e.g. a pixel format no encoder takes
            raise UnsupportedMedia(
                "The image could not be re-encoded; save it as an 8-bit PNG or JPEG."
            ) from exc


def _encode_within(image: Image.Image, max_bytes: int, icc_profile: bytes | None) -> bytes:
    alpha = _has_alpha(image)
    image = image.convert("RGBA" if alpha else "RGB")
    fmt = "WEBP" if alpha else "JPEG"
    scale = min(1.0, WEBP_MAX_SIDE / max(image.size)) if alpha else 1.0
    while True:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        candidate = image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)
        for quality in FIT_QUALITIES:
            buffer = io.BytesIO()
            options = {"icc_profile": icc_profile} if icc_profile else {}
            candidate.save(buffer, format=fmt, quality=quality, **options)
            if buffer.tell() <= max_bytes:
                return buffer.getvalue()
        if size == (1, 1):
            raise UnsupportedMedia("The image cannot be made small enough for the AI provider.")
        scale *= FIT_DOWNSCALE_STEP


def probe_video(data: bytes) -> tuple[MediaInfo, bytes | None]:
    """The MP4's facts and a JPEG thumbnail of its first frame."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise UnsupportedMedia("The file has no video stream.")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            duration: float | None = None
            if container.duration:
                duration = container.duration / 1_000_000
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            thumbnail = None
            for frame in container.decode(stream):
                thumbnail = _thumbnail(frame.to_image())  # type: ignore[no-untyped-call]
                break
    except av.error.FFmpegError as exc:
        raise UnsupportedMedia("The file is not a readable video.") from exc
    return MediaInfo("mp4", "video/mp4", width, height, duration), thumbnail
