"""``content="index"``: what synthetic files show to *prove alignment* (SPEC §2).

* every video frame carries its frame index in its pixels (:func:`encode_frame_index` /
  :func:`decode_frame_index`): central video, face crops and lip crops show the
  **central** frame index, the ego video and ego crops the **ego** frame index (the central
  and ego *videos* show it in ``content="speech"`` too);
* every audio track is a slice of a known, deterministic band-limited noise
  (:func:`central_noise` for the central microphone, :func:`lapel_noise` for a speaker's
  close-talk microphone), so cross-correlation against the reference has one sharp peak;
* :func:`stereo_channels` turns a 16 kHz signal into the 48 kHz stereo of
  ``audio_format="stereo48k"`` files (either content).
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, Tuple

import numpy as np

from ..timeline import SAMPLE_RATE
from .spec import STEREO_RATE, SessionSpec, _seed_words

__all__ = ["encode_frame_index", "decode_frame_index", "FRAME_INDEX_MAX", "frame_index_renderer", "central_noise",
           "lapel_noise", "stereo_channels"]

# ---------------------------------------------------------------------------------------
# Frame index <-> pixels
# ---------------------------------------------------------------------------------------

_INDEX_BITS = 14
FRAME_INDEX_MAX: int = (1 << _INDEX_BITS) - 1  # 16383 frames = 655 s at 25 fps
_BLACK = 16   # full-range gray level of a 0 bit  (luma Y = 30)
_WHITE = 240  # full-range gray level of a 1 bit  (luma Y = 222)
_TEXTURE = 12  # amplitude of the fixed checkerboard overlay
_AMBIGUOUS = (96.0, 160.0)  # a block mean strictly inside this range is not a clean bit


def _parity(value: int) -> int:
    return bin(value).count("1") & 1


def _code_word(index: int) -> int:
    """16-bit code: Gray-coded index in bits 0..13, two inverted parity bits in 14, 15.

    Gray coding makes consecutive frames differ in one block (an off-by-one frame decodes to
    a different index, never to garbage); the inverted parity bits make an all-black
    (padding) or all-white image, and any single wrong block, fail the check.
    """
    gray = index ^ (index >> 1)
    p_even = 1 ^ _parity(gray & 0x1555)
    p_odd = 1 ^ _parity(gray & 0x2AAA)
    return gray | (p_even << 14) | (p_odd << 15)


def _index_from_gray(gray: int) -> int:
    index = 0
    while gray:
        index ^= gray
        gray >>= 1
    return index


@functools.lru_cache(maxsize=16)
def _texture(height: int, width: int) -> np.ndarray:
    """A fixed +-12 checkerboard of 2x2 cells: static detail that makes intra coding
    expensive and inter prediction cheap, as in real video, so that x264's scene-cut
    detection does not fire on every block flip (keyframes then follow keyint, 250)."""
    yy, xx = np.mgrid[:height, :width]
    texture = np.where(((yy // 2) + (xx // 2)) % 2 == 0, _TEXTURE, -_TEXTURE).astype(np.int16)
    texture.setflags(write=False)
    return texture


def encode_frame_index(index: int, height: int, width: int) -> np.ndarray:
    """A gray ``uint8 [height, width]`` image that shows ``index`` (0..FRAME_INDEX_MAX).

    A 4x4 grid of blocks (``height // 4`` x ``width // 4`` each; 24x24 at 96x96), one bit
    each, row-major from the top left: black (gray 16) or white (gray 240), overlaid with a
    fixed +-12 checkerboard texture of 2x2-pixel cells. Rows/columns left over when the size
    is not a multiple of 4 are black. The bits are a 14-bit Gray code of ``index`` plus two
    inverted parity bits. Values are full-range gray, i.e. what a decoder returns as gray or
    as R = G = B; written to yuv420p as luma ``16 + gray * 219 / 255`` (19..40 and 212..232).
    """
    index = int(index)
    if not 0 <= index <= FRAME_INDEX_MAX:
        raise ValueError(f"frame index {index} outside 0..{FRAME_INDEX_MAX}")
    if height < 8 or width < 8:
        raise ValueError(f"image {height}x{width} too small for a frame-index code (min 8x8)")
    word = _code_word(index)
    bits = np.array([(word >> b) & 1 for b in range(16)], dtype=np.int16).reshape(4, 4)
    levels = np.where(bits == 1, _WHITE, _BLACK).astype(np.int16)
    bh, bw = height // 4, width // 4
    image = np.full((height, width), _BLACK, dtype=np.int16)
    image[: 4 * bh, : 4 * bw] = np.repeat(np.repeat(levels, bh, axis=0), bw, axis=1)
    image += _texture(height, width)
    return np.clip(image, 0, 255).astype(np.uint8)


def _as_hwc(image: Any) -> np.ndarray:
    """A view of ``image`` as ``[H, W, C]`` (C in 1, 3), numpy."""
    if hasattr(image, "detach") and hasattr(image, "cpu"):  # torch tensor
        image = image.detach().cpu().numpy()
    array = np.asarray(image)
    if array.ndim == 2:
        return array[:, :, None]
    if array.ndim == 3:
        if array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
            return np.moveaxis(array, 0, -1)
        if array.shape[-1] in (1, 3):
            return array
        if array.shape[0] in (1, 3):
            return np.moveaxis(array, 0, -1)
    raise ValueError(f"expected an image shaped [H,W], [C,H,W] or [H,W,C] with C in (1, 3), "
                     f"got shape {tuple(array.shape)}")


def decode_frame_index(image: Any, *, strict: bool = True) -> int:
    """The frame index shown by ``image`` (see :func:`encode_frame_index`).

    ``image``: numpy array or torch tensor, ``[H,W]``, ``[1,H,W]``, ``[3,H,W]`` (CHW),
    ``[H,W,1]`` or ``[H,W,3]`` (HWC), gray or RGB (channels are averaged), full-range values
    (0..255). Each block is read as the mean of its central half, thresholded at 128.

    With ``strict`` (default) a :class:`ValueError` is raised when the image is not a clean
    code: a block mean between 96 and 160, or a failed parity check (e.g. a zero padding
    frame). ``strict=False`` returns the decoded index regardless.
    """
    hwc = _as_hwc(image)
    height, width = hwc.shape[:2]
    if height < 8 or width < 8:
        raise ValueError(f"image {height}x{width} too small for a frame-index code")
    bh, bw = height // 4, width // 4
    hh, hw = max(bh // 2, 1), max(bw // 2, 1)
    rows = (np.arange(4)[:, None] * bh + bh // 4 + np.arange(hh)[None, :]).reshape(-1)
    cols = (np.arange(4)[:, None] * bw + bw // 4 + np.arange(hw)[None, :]).reshape(-1)
    sub = hwc[np.ix_(rows, cols)].astype(np.float64)  # [4*hh, 4*hw, C]
    means = sub.reshape(4, hh, 4, hw, -1).mean(axis=(1, 3, 4)).reshape(-1)
    if strict:
        unclear = np.flatnonzero((means > _AMBIGUOUS[0]) & (means < _AMBIGUOUS[1]))
        if unclear.size:
            b = int(unclear[0])
            raise ValueError(f"not a frame-index image: block {b} has mean {means[b]:.1f}")
    word = int(np.dot((means >= 128.0).astype(np.int64), 1 << np.arange(16, dtype=np.int64)))
    gray_code = word & FRAME_INDEX_MAX
    if strict and word != _code_word(_index_from_gray(gray_code)):
        raise ValueError(f"not a frame-index image: parity check failed (code {word:#06x})")
    return _index_from_gray(gray_code)


# ---------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------

_FIR_TAPS = 129
_NOISE_STD = 0.07  # peak stays well under 0.5 for any session length used here


def _lowpass_fir(cutoff_hz: float = 4000.0, taps: int = _FIR_TAPS, rate: int = SAMPLE_RATE) -> np.ndarray:
    n = np.arange(taps) - (taps - 1) / 2.0
    h = 2.0 * cutoff_hz / rate * np.sinc(2.0 * cutoff_hz / rate * n)
    h *= np.hamming(taps)
    return h / h.sum()


@functools.lru_cache(maxsize=16)
def _noise(seed_words: Tuple[int, ...], length: int) -> np.ndarray:
    """Band-limited (~4 kHz) noise, float32, read-only; deterministic from the seed."""
    rng = np.random.default_rng(np.random.SeedSequence(list(seed_words)))
    white = rng.standard_normal(length + _FIR_TAPS - 1)
    h = _lowpass_fir()
    signal = np.convolve(white, h, mode="valid")
    signal *= _NOISE_STD / math.sqrt(float(np.sum(h * h)))
    signal = np.clip(signal, -0.95, 0.95).astype(np.float32)
    signal.setflags(write=False)
    return signal


def central_noise(session: SessionSpec) -> np.ndarray:
    """The ``content="index"`` central microphone over the whole session: band-limited noise,
    float32 ``[session.num_samples]`` (central-timeline samples), read-only."""
    return _noise(_seed_words(session.seed, "central"), session.num_samples)


def lapel_noise(session: SessionSpec, speaker_name: str) -> np.ndarray:
    """The ``content="index"`` lapel microphone of ``speaker_name`` over the whole session:
    band-limited noise, float32 ``[session.num_samples]`` (central-timeline samples),
    read-only, independent of every other microphone's."""
    return _noise(_seed_words(session.seed, "lapel", speaker_name), session.num_samples)


def _upsample(signal: np.ndarray, factor: int) -> np.ndarray:
    """``signal`` (band-limited well below 8 kHz at 16 kHz) at ``factor`` times the rate:
    zero-stuffing and a linear-phase low-pass, so sample ``k`` lands on sample ``factor * k``."""
    stuffed = np.zeros(len(signal) * factor, dtype=np.float64)
    stuffed[::factor] = signal
    h = _lowpass_fir(SAMPLE_RATE / 2 * 0.9, _FIR_TAPS * factor, rate=SAMPLE_RATE * factor) * factor
    return np.convolve(stuffed, h, mode="same")


def stereo_channels(signal: np.ndarray, seed_words: Tuple[int, ...]) -> np.ndarray:
    """The ``"stereo48k"`` form of a 16 kHz ``signal``: float32 ``[2, 3 * len(signal)]`` at
    48 kHz, left ``x + d``, right ``x - d`` with ``d`` an independent band-limited noise
    (from ``seed_words``), so the mean of the channels is ``signal`` at its own level."""
    factor = STEREO_RATE // SAMPLE_RATE
    x = _upsample(np.asarray(signal, dtype=np.float64), factor)
    d = _upsample(_noise(seed_words, len(signal)).astype(np.float64), factor)
    return np.clip(np.stack([x + d, x - d]), -1.0, 1.0).astype(np.float32)


def frame_index_renderer(size: Tuple[int, int]) -> Callable[[int], np.ndarray]:
    """``render(index) -> uint8 [H, W]``: :func:`encode_frame_index` at ``size`` (height,
    width), the pixels of every ``content="index"`` frame and of the central and ego videos."""
    height, width = size

    def render(index: int) -> np.ndarray:
        return encode_frame_index(int(index), height, width)

    return render
