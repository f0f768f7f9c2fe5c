"""Small helpers the page's Python modules share: the clock and painting RGBA bytes on a canvas."""

from pyscript import window


def now_ms() -> float:
    return window.performance.now()


def put_rgba(ctx, rgba: bytes, width: int, height: int) -> None:
    """Paint RGBA bytes on a canvas context at (0, 0) through ImageData."""
    data = window.Uint8ClampedArray.new(width * height * 4)
    data.assign(rgba)
    ctx.putImageData(window.ImageData.new(data, width, height), 0, 0)
