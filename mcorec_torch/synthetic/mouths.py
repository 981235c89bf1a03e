"""Pixels of ``content="speech"`` crops: a speaker's textured face with a mouth whose shape
encodes the symbol articulated at that frame (:mod:`.articulation`), with per-frame jitter
and noise. :func:`mouth_shape` says which shape shows a symbol, :func:`crop_renderer` renders
a crop video's frames (central or ego), :func:`mouth_template` a clean one; what the crops
look like: :mod:`.speech`.
"""
from __future__ import annotations

import functools
import math
from typing import Callable, Dict, Optional, Tuple

import numpy as np

from .articulation import CHARSET, NEUTRAL, articulation, central_frame_of_ego
from .spec import FACE_SIZE, LIP_SIZE, SessionSpec, _seed_words

__all__ = ["mouth_shape", "mouth_template", "crop_renderer"]

#: Opening semi-axes (lip-crop pixels) and inner gray level of the mouth, by level.
_OPEN_HALF_HEIGHT = (3.0, 6.0, 9.0, 12.0)
_OPEN_HALF_WIDTH = (12.0, 17.0, 22.0, 27.0)
_OPEN_FILL = (28.0, 78.0)
_LIP_THICKNESS = 3.5
_CLOSED_HALF = (20.0, 4.0)  # closed lips: (half width, half height)
_JITTER = 2
_NOISE_STD = 2.0
_NOISE_BANK = 8  # noise fields, each larger than the image by _NOISE_SHIFT: a frame takes a
_NOISE_SHIFT = 16  # window at a random offset, so 8 * 16 * 16 noise images are cheap to draw
_NOISE_IMAGES = _NOISE_BANK * _NOISE_SHIFT * _NOISE_SHIFT
_FACE_SCALE = 1.6
_FACE_MOUTH_Y = 163


def mouth_shape(symbol: int) -> Optional[Tuple[int, int, int]]:
    """``(height level 0-3, width level 0-3, fill level 0-1)`` of the mouth opening that
    shows ``symbol`` (``symbol = height + 4 * width + 16 * fill``), ``None`` for
    :data:`NEUTRAL` (closed lips)."""
    symbol = int(symbol)
    if symbol == NEUTRAL:
        return None
    if not 0 <= symbol < len(CHARSET):
        raise ValueError(f"symbol {symbol} outside -1..{len(CHARSET) - 1}")
    return symbol % 4, (symbol // 4) % 4, symbol // 16


def _coverage(ys: np.ndarray, xs: np.ndarray, half_h: float, half_w: float) -> np.ndarray:
    """Fraction of each pixel inside the ellipse (4x4 supersampled); pixel centres at
    ``ys`` x ``xs`` relative to the ellipse centre."""
    sub = (np.arange(4) + 0.5) / 4.0 - 0.5
    yy = (ys[:, None, None, None] + sub[None, :, None, None]) / half_h
    xx = (xs[None, None, :, None] + sub[None, None, None, :]) / half_w
    return ((yy * yy + xx * xx) <= 1.0).mean(axis=(1, 3))


@functools.lru_cache(maxsize=8)
def _mouth_layers(scale: float, lip_level: float) -> Tuple[int, int, Dict[int, Tuple[np.ndarray, np.ndarray]]]:
    """Per symbol ``(mul, add)`` patches: a face region becomes ``region * mul + add``.
    Returns (half height, half width, layers) of the patch, centred on the mouth."""
    hh = int(math.ceil((_OPEN_HALF_HEIGHT[-1] + _LIP_THICKNESS) * scale)) + 1
    hw = int(math.ceil((_OPEN_HALF_WIDTH[-1] + _LIP_THICKNESS) * scale)) + 1
    ys = np.arange(-hh, hh + 1, dtype=np.float64)
    xs = np.arange(-hw, hw + 1, dtype=np.float64)
    layers = {}
    for symbol in range(NEUTRAL, len(CHARSET)):
        shape = mouth_shape(symbol)
        if shape is None:
            outer = _coverage(ys, xs, _CLOSED_HALF[1] * scale, _CLOSED_HALF[0] * scale)
            inner, fill = np.zeros_like(outer), 0.0
        else:
            h, w, f = shape
            oh, ow = _OPEN_HALF_HEIGHT[h], _OPEN_HALF_WIDTH[w]
            outer = _coverage(ys, xs, (oh + _LIP_THICKNESS) * scale, (ow + _LIP_THICKNESS) * scale)
            inner = _coverage(ys, xs, oh * scale, ow * scale)
            fill = _OPEN_FILL[f]
        mul = (1.0 - outer).astype(np.float32)
        add = (lip_level * (outer - inner) + fill * inner).astype(np.float32)
        layers[symbol] = (mul, add)
    return hh, hw, layers


def _smooth_noise(rng: np.random.Generator, size: Tuple[int, int], cell: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1]: a coarse random grid, bilinearly upsampled."""
    height, width = size
    gh, gw = height // cell + 2, width // cell + 2
    grid = rng.uniform(-1.0, 1.0, (gh, gw))
    y = np.arange(height) / cell
    x = np.arange(width) / cell
    y0, x0 = y.astype(int), x.astype(int)
    ty, tx = (y - y0)[:, None], (x - x0)[None, :]
    top = grid[y0][:, x0] * (1 - tx) + grid[y0][:, x0 + 1] * tx
    bottom = grid[y0 + 1][:, x0] * (1 - tx) + grid[y0 + 1][:, x0 + 1] * tx
    return top * (1 - ty) + bottom * ty


class _Face:
    """A speaker's face as seen by one kind of crop (``"lip"`` or ``"face"``)."""

    def __init__(self, seed: int, speaker_name: str, size: Tuple[int, int]) -> None:
        self.size = size
        height, width = size
        rng = np.random.default_rng(np.random.SeedSequence(
            list(_seed_words(seed, "speech-face", speaker_name, height, width))))
        skin = float(rng.uniform(140.0, 165.0))
        lip_level = float(round(rng.uniform(104.0, 116.0)))
        yy, xx = np.mgrid[:height, :width].astype(np.float64)
        if size == LIP_SIZE:
            self.scale, self.center = 1.0, (height // 2, width // 2)
            base = skin + 6.0 * (yy / height - 0.5) + 5.0 * _smooth_noise(rng, size, 12)
        else:
            self.scale = _FACE_SCALE * min(height, width) / FACE_SIZE[0]
            self.center = (int(round(_FACE_MOUTH_Y * height / FACE_SIZE[0])), width // 2)
            cy, cx = height * 0.5, width * 0.5
            inside = ((yy - cy) / (0.47 * height)) ** 2 + ((xx - cx) / (0.36 * width)) ** 2
            background = 80.0 + 10.0 * _smooth_noise(rng, size, 32)
            face = skin + 5.0 * _smooth_noise(rng, size, 16) - 8.0 * (yy / height)
            base = np.where(inside <= 1.0, face, background)
            for ex in (0.34, 0.66):  # eyes and brows, mirror-symmetric
                eye = ((yy - 0.38 * height) / (0.035 * height)) ** 2 + ((xx - ex * width) / (0.07 * width)) ** 2
                base = np.where(eye <= 1.0, 45.0, base)
                brow = ((yy - 0.30 * height) / (0.015 * height)) ** 2 + ((xx - ex * width) / (0.09 * width)) ** 2
                base = np.where(brow <= 1.0, 95.0, base)
            nose = ((yy - 0.58 * height) / (0.02 * height)) ** 2 + ((xx - cx) / (0.06 * width)) ** 2
            base = np.where(nose <= 1.0, skin - 25.0, base)
        texture = np.where(((yy // 2) + (xx // 2)) % 2 == 0, 3.0, -3.0)  # fixed fine detail
        self.base = (base + texture).astype(np.float32)
        self.hh, self.hw, self.layers = _mouth_layers(self.scale, lip_level)
        self.noise = rng.normal(0.0, _NOISE_STD, (_NOISE_BANK, height + _NOISE_SHIFT,
                                                  width + _NOISE_SHIFT)).astype(np.float32)

    def render(self, symbol: int, dy: int = 0, dx: int = 0, noise: Optional[int] = None) -> np.ndarray:
        """Full-range gray ``uint8 [H, W]`` image of the face showing ``symbol``, the mouth
        moved by ``(dy, dx)`` pixels, plus noise image ``noise`` (``0 .. _NOISE_IMAGES - 1``;
        None: none)."""
        if noise is None:
            image = self.base.copy()
        else:
            field, rest = divmod(int(noise) % _NOISE_IMAGES, _NOISE_SHIFT * _NOISE_SHIFT)
            oy, ox = divmod(rest, _NOISE_SHIFT)
            height, width = self.size
            image = self.base + self.noise[field, oy: oy + height, ox: ox + width]
        mul, add = self.layers[int(symbol)]
        y0 = self.center[0] + int(dy) - self.hh
        x0 = self.center[1] + int(dx) - self.hw
        region = image[y0: y0 + mul.shape[0], x0: x0 + mul.shape[1]]
        region *= mul
        region += add
        image += 0.5
        np.clip(image, 0.0, 255.0, out=image)
        return image.astype(np.uint8)


@functools.lru_cache(maxsize=16)
def _face(seed: int, speaker_name: str, size: Tuple[int, int]) -> "_Face":
    return _Face(seed, speaker_name, size)


def mouth_template(symbol: int, size: Tuple[int, int] = LIP_SIZE, *, session: Optional[SessionSpec] = None,
                   speaker_name: str = "spk_0") -> np.ndarray:
    """A clean (no jitter, no noise) gray ``uint8 [H, W]`` crop showing ``symbol``: what a
    template classifier compares decoded frames against. ``size``: :data:`.spec.LIP_SIZE`
    or :data:`.spec.FACE_SIZE`. The face (skin level, texture) is ``speaker_name``'s
    in ``session`` (default: seed 0)."""
    seed = session.seed if session is not None else 0
    return _face(int(seed), speaker_name, tuple(size)).render(symbol)


def crop_renderer(session: SessionSpec, speaker_name: str, size: Tuple[int, int],
                  view: str = "central") -> Callable[[int], np.ndarray]:
    """``render(frame) -> uint8 [H, W]`` full-range gray image of ``speaker_name``'s crop of
    ``size`` at ``frame``: a central frame (``view="central"``) or an ego frame
    (``view="ego"``, showing the mouth at :func:`central_frame_of_ego`). Jitter and noise
    are drawn per frame, deterministically (seed, speaker, view, size, frame)."""
    if view not in ("central", "ego"):
        raise ValueError(f"view must be 'central' or 'ego', got {view!r}")
    spk = session.speaker(speaker_name)
    symbols = articulation(session, speaker_name)
    shift = central_frame_of_ego(spk, 0) if view == "ego" else 0
    num_frames = spk.ego.num_frames if view == "ego" and spk.ego is not None else session.num_frames
    face = _face(int(session.seed), speaker_name, tuple(size))
    height, width = size
    key = list(_seed_words(session.seed, "speech-jitter", speaker_name, view, height, width))
    # Per-frame draws for the whole video at once: a frame's look does not depend on the
    # track it is written to.
    rng = np.random.default_rng(np.random.SeedSequence(key))
    jitter = rng.integers(-_JITTER, _JITTER + 1, size=(max(num_frames, 0), 2)).tolist()
    noise = rng.integers(0, _NOISE_IMAGES, size=max(num_frames, 0)).tolist()

    def render(frame: int) -> np.ndarray:
        frame = int(frame)
        if not 0 <= frame < num_frames:
            raise ValueError(f"{speaker_name}: frame {frame} outside the {view} video's "
                             f"{num_frames} frames")
        central = frame + shift
        symbol = int(symbols[central]) if 0 <= central < len(symbols) else NEUTRAL
        dy, dx = jitter[frame]
        return face.render(symbol, dy, dx, noise[frame])

    return render
