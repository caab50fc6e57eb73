"""Real media for the simulator: a PNG/JPEG drawn from the prompt, and a short H.264 MP4 (optionally panning over
an input image)."""

from __future__ import annotations

import hashlib
import io
import textwrap
from fractions import Fraction

import av
from PIL import Image, ImageDraw, ImageFont

IMAGE_LONG_SIDE = 512
VIDEO_SIZES = {"480p": 240, "720p": 288, "1080p": 360}
"""Short side in pixels for each resolution (small on purpose: the files are real but cheap to make)."""
VIDEO_FPS = 8


def ratio_size(aspect_ratio: str, long_side: int) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in aspect_ratio.split(":"))
    except ValueError:
        w, h = 1, 1
    if w >= h:
        return long_side, max(16, round(long_side * h / w))
    return max(16, round(long_side * w / h)), long_side


def prompt_colour(prompt: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(prompt.encode()).digest()
    return digest[0], digest[1], digest[2]


def draw_image(prompt: str, aspect_ratio: str = "1:1", output_format: str = "png") -> tuple[bytes, str]:
    width, height = ratio_size(aspect_ratio if aspect_ratio != "auto" else "1:1", IMAGE_LONG_SIDE)
    r, g, b = prompt_colour(prompt)
    image = Image.new("RGB", (width, height), (r, g, b))
    draw = ImageDraw.Draw(image)
    for i in range(0, max(width, height), 32):
        draw.line([(i, 0), (0, i)], fill=((r + 60) % 256, (g + 60) % 256, (b + 60) % 256), width=3)
    font = ImageFont.load_default()
    text = "\n".join(textwrap.wrap(prompt, width=max(10, width // 8))[:12])
    draw.rectangle([(8, 8), (width - 8, min(height - 8, 24 + 12 * text.count("\n") + 16))], fill=(0, 0, 0))
    draw.multiline_text((14, 14), text or "(empty prompt)", fill=(255, 255, 255), font=font)
    buffer = io.BytesIO()
    if output_format == "jpeg":
        image.save(buffer, format="JPEG", quality=88)
        return buffer.getvalue(), "image/jpeg"
    image.save(buffer, format="PNG")
    return buffer.getvalue(), "image/png"


def _even(n: int) -> int:
    return n - (n % 2)


def make_video(
    prompt: str,
    *,
    aspect_ratio: str = "16:9",
    resolution: str = "720p",
    duration: int = 4,
    first_frame: bytes | None = None,
) -> bytes:
    """An H.264 MP4 of `duration` seconds: a slow zoom over the input image, or a moving card for text-to-video."""
    short = VIDEO_SIZES.get(resolution, 288)
    width, height = ratio_size(aspect_ratio, short * 16 // 9)
    scale = short / min(width, height)
    width, height = _even(round(width * scale)), _even(round(height * scale))
    if first_frame is not None:
        base = Image.open(io.BytesIO(first_frame)).convert("RGB")
    else:
        base = Image.open(io.BytesIO(draw_image(prompt, aspect_ratio)[0])).convert("RGB")
    base = base.resize((width * 5 // 4, height * 5 // 4))
    buffer = io.BytesIO()
    container = av.open(buffer, mode="w", format="mp4")
    stream = container.add_stream("libx264", rate=VIDEO_FPS)
    stream.width, stream.height = width, height
    stream.pix_fmt = "yuv420p"
    stream.options = {"preset": "ultrafast", "crf": "30"}
    stream.time_base = Fraction(1, VIDEO_FPS)
    frames = max(1, duration * VIDEO_FPS)
    max_dx, max_dy = base.width - width, base.height - height
    for index in range(frames):
        t = index / max(1, frames - 1)
        box = (round(max_dx * t), round(max_dy * t), round(max_dx * t) + width, round(max_dy * t) + height)
        frame = av.VideoFrame.from_image(base.crop(box))  # type: ignore[no-untyped-call]
        frame.pts = index
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return buffer.getvalue()
