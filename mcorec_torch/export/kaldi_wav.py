"""The program behind the Kaldi export's ``wav.scp`` pipes: one recording's audio on the central
timeline (SPEC §2) as a 16 kHz mono 16-bit PCM WAV on standard output, decoded exactly as the
dataset decodes it (:func:`~mcorec_torch.media.audio.decode_audio`: samples placed against the
file's first video frame, other rates resampled, channels averaged).

``python -m mcorec_torch.export.kaldi_wav --length N --source PATH SAMPLES OFFSET [--source ...]``

A source is a file whose decoded audio (cut or zero-padded to ``SAMPLES``) covers central
samples ``[OFFSET, OFFSET + SAMPLES)`` (file sample = central sample - ``OFFSET``); where
several cover a sample, the first listed gives it (the central crops, the speaker's own
first); samples no source covers are zero. The WAV starts at central sample 0 and holds
``max(N, end of the last source)`` samples. The sources are what
:meth:`~mcorec_torch.data.reader.SegmentReader.audio_plan` decides for the recording's
segments (see :mod:`mcorec_torch.export.formats.kaldi`). Imports no torch.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from ..timeline import SAMPLE_RATE

#: ``(path, samples, offset)``: a file, its decoded length in samples and where its sample 0
#: lies on the central timeline (samples).
Source = Tuple[str, int, int]
#: Full scale of the 16-bit PCM the pipe writes (as :func:`~mcorec_torch.export.codec.flac_bytes`).
PCM16_SCALE = 32767.0


def timeline_length(sources: Sequence[Source], length: int) -> int:
    """Samples of the recording: ``length`` or the end of the last source, the larger."""
    return max([int(length)] + [int(offset) + int(samples) for _, samples, offset in sources])


def timeline_audio(sources: Sequence[Source], length: int,
                   decode: Optional[Callable[[str, int], np.ndarray]] = None) -> np.ndarray:
    """Float32 samples ``[timeline_length(sources, length)]`` of the central timeline from
    ``sources`` (the first listed wins where several cover a sample; zero where none does).
    ``decode(path, samples)``: the decoded audio (default :func:`~mcorec_torch.media.audio.decode_audio`)."""
    if decode is None:
        from ..media.audio import decode_audio as decode
    out = np.zeros(timeline_length(sources, length), dtype=np.float32)
    todo = np.ones(len(out), dtype=bool)
    for path, samples, offset in sources:
        lo, hi = max(int(offset), 0), min(int(offset) + int(samples), len(out))
        if hi <= lo or not todo[lo:hi].any():
            continue
        signal = decode(path, int(samples))
        span = todo[lo:hi]
        out[lo:hi][span] = signal[lo - offset: hi - offset][span]
        todo[lo:hi] = False
    return out


def pcm16_wav_bytes(audio: np.ndarray) -> bytes:
    """``audio`` (float32 in [-1, 1], 16 kHz) as a mono 16-bit PCM WAV file (what Kaldi reads)."""
    import io
    import wave

    pcm = np.round(np.clip(audio, -1.0, 1.0) * PCM16_SCALE).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()


def read_pcm16_wav(data: bytes) -> np.ndarray:
    """The samples of a :func:`pcm16_wav_bytes` file as float32 (PCM / 32767)."""
    import io
    import wave

    with wave.open(io.BytesIO(data)) as wav:
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / PCM16_SCALE


def _parse(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mcorec_torch.export.kaldi_wav",
                                     description="one recording of a Kaldi export as 16 kHz mono 16-bit WAV "
                                                 "on standard output (the central timeline)")
    parser.add_argument("--length", type=int, default=0, help="at least this many samples")
    parser.add_argument("--source", nargs=3, action="append", required=True, metavar=("PATH", "SAMPLES", "OFFSET"),
                        help="a file, its decoded length and its first sample's place on the timeline (samples)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Write the WAV to standard output; exit 2 with ``error: ...`` when a file cannot be read."""
    from ..errors import MCoRecDataError

    args = _parse(argv)
    sources = [(path, int(samples), int(offset)) for path, samples, offset in args.source]
    try:
        data = pcm16_wav_bytes(timeline_audio(sources, args.length))
    except (MCoRecDataError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # the reader stopped early (a head of the stream is all it wanted)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
