"""Media facts read from the bytes themselves (never from names or headers): format, size, duration, thumbnail."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
from PIL import Image, UnidentifiedImageError

THUMBNAIL_LONG_SIDE = 320
IMAGE_FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}
MAX_IMAGE_PIXELS = 80_000_000


class UnsupportedMedia(ValueError):
    """Bytes that are not a PNG, JPEG or WebP image (or not a readable MP4 video)."""


@dataclass(frozen=True)
class MediaInfo:
    extension: str
    mime_type: str
    width: int
    height: int
    duration_seconds: float | None = None


def probe_image(data: bytes) -> MediaInfo:
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format or ""
            width, height = image.size
            if fmt not in IMAGE_FORMATS:
                raise UnsupportedMedia(f"{fmt or 'this format'} is not supported; use PNG, JPEG or WebP")
            if width * height > MAX_IMAGE_PIXELS:
                raise UnsupportedMedia("the image has too many pixels")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UnsupportedMedia("the file is not a readable PNG, JPEG or WebP image") from exc
    extension, mime = IMAGE_FORMATS[fmt]
    return MediaInfo(extension, mime, width, height)


def _thumbnail(image: Image.Image) -> bytes:
    image = image.convert("RGB")
    image.thumbnail((THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82)
    return buffer.getvalue()


def image_thumbnail(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return _thumbnail(image)


def probe_video(data: bytes) -> tuple[MediaInfo, bytes | None]:
    """The MP4's facts and a JPEG thumbnail of its first frame."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise UnsupportedMedia("the file has no video stream")
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
        raise UnsupportedMedia("the file is not a readable video") from exc
    return MediaInfo("mp4", "video/mp4", width, height, duration), thumbnail
