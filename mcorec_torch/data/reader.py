"""``SegmentReader``: the one implementation that turns an index row into frames, mask and
audio (SPEC §2-§4). The dataset, exporters, caches and other loaders all read segments
through it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from ..corpus.layout import CROP_SIZES
from ..errors import MCoRecDataError, PathLike
from ..index.segment_index import SegmentIndex
from ..media.color import channels_of
from ..lips.roi import warp_rois
from ..lips.store import LandmarkStore
from ..media.frame_cache import FrameCache
from ..media.audio import slice_padded
from ..media.pool import MediaPool
from ..timeline import SAMPLES_PER_FRAME, frame_to_sample


@dataclass(frozen=True)
class VideoPiece:
    """Frames ``[track_frame, track_frame + length)`` of the video file ``path`` (which
    presents ``track_frames`` frames) fill frames ``[offset, offset + length)`` of the segment
    (all in frames). ``mouth_roi``: ``path`` is a face track whose frames' mouth ROIs fill them
    (a derived lip track, SPEC §13: :meth:`SegmentReader.mouth_rois`)."""

    path: str
    track_frame: int
    length: int
    offset: int
    track_frames: int
    mouth_roi: bool = False


@dataclass(frozen=True)
class VideoPlan:
    """What decoding a segment's video takes, without decoding it: the output shape
    ``[frames, channels, height, width]``, the mask of frames some track covers (the rest are
    zero padding, SPEC §3) and the pieces to decode."""

    frames: int
    channels: int
    height: int
    width: int
    mask: np.ndarray
    pieces: Tuple[VideoPiece, ...]

    @property
    def shape(self) -> Tuple[int, int, int, int]:
        return (self.frames, self.channels, self.height, self.width)


@dataclass(frozen=True)
class AudioPlan:
    """Where the audio of one index row is read from, and its timing (SPEC §2, §4); decided by
    :meth:`SegmentReader.audio_plan` alone, for the reader and every exporter.

    ``kind``: ``"ego"`` (the speaker's lapel mic: the audio of ``ego_video.mp4``), ``"central"``
    (``central_video.mp4``) or ``"crops"`` (no central audio: the central crop tracks' own audio).
    ``start``, ``stop``: the segment's samples on the central timeline (16 kHz). ``path``: the
    file (``""`` for ``"crops"``), ``samples``: its decoded length in samples, ``offset``: in
    samples, file sample = central sample - ``offset`` (0 but for ``"ego"``). ``tracks``: for
    ``"crops"``, the crop tracks (index track ids) in the order they fill the segment, the
    speaker's own first."""

    kind: str
    start: int
    stop: int
    path: str = ""
    samples: int = 0
    offset: int = 0
    tracks: Tuple[int, ...] = ()


class SegmentReader:
    """Reads the media of :class:`~mcorec_torch.index.SegmentIndex` rows.

    The options come one way, from ``index.options`` (:attr:`options`): ``color`` (``"rgb"``, C=3,
    or ``"gray"``, C=1, SPEC §8 luma) and ``audio`` (which recording). ``audio_cache_dir``: where
    decoded audio tracks are cached as ``.npy`` (``None``: not cached on disk). Media files
    are opened lazily in each process and at most 64 are kept open (see
    :class:`~mcorec_torch.media.MediaPool`); the reader can be pickled into DataLoader
    workers (fork or spawn). ``landmarks``: where the landmarks of derived lip tracks come from
    (a :class:`~mcorec_torch.lips.LandmarkStore`; SPEC §13).
    """

    def __init__(self, index: SegmentIndex, *, audio_cache_dir: Optional[PathLike] = None,
                 frame_cache: Optional[FrameCache] = None, landmarks: Optional[LandmarkStore] = None) -> None:
        self.index = index
        #: The options the index was built for (:attr:`SegmentIndex.options`).
        self.options = index.options
        self.color = index.options.color
        #: Whole decoded tracks on disk (``None``: decode every segment from the file).
        self.frame_cache = frame_cache
        self.pool = MediaPool(Path(audio_cache_dir) if audio_cache_dir is not None else None)
        #: Landmarks of the face tracks whose mouth ROIs are derived (SPEC §13; ``None``: kept in
        #: memory only); a missing ``lips`` extra is an error now, not in a worker mid-epoch.
        self.landmarks = landmarks if landmarks is not None else LandmarkStore(None)
        derived = [track.path for track in index.tracks if track.lip == "derived"]
        if derived:
            self.landmarks.require_ready(derived)

    def mouth_rois(self, piece: VideoPiece) -> np.ndarray:
        """The mouth ROIs of a derived lip piece (:attr:`VideoPiece.mouth_roi`): its face frames
        (from the frame cache when there is one), each cropped with the ROI of its own smoothed
        landmarks; uint8 ``[length, C, 96, 96]``. :class:`MCoRecDataError` naming the track when
        no frame of it has a face."""
        if self.frame_cache is not None:
            faces = self.frame_cache.read(piece.path, self.color, piece.track_frame, piece.length, piece.track_frames)
        else:
            faces = self.pool.video(piece.path).read(piece.track_frame, piece.length, self.color)
        transforms = self.landmarks.transforms(piece.path, piece.track_frames)
        return warp_rois(faces, transforms[piece.track_frame: piece.track_frame + piece.length])

    def video_plan(self, row: int) -> VideoPlan:
        """The shape, mask and track pieces of index row ``row``'s video (nothing decoded);
        :meth:`video` decodes exactly this plan, and so does the GPU path (SPEC §8)."""
        index = self.index
        count = int(index.frame_end[row] - index.frame_start[row])
        channels = channels_of(self.color)
        pieces = index.pieces(row)
        if pieces:
            first = index.tracks[pieces[0][0]]
            height, width = first.height, first.width
        else:
            speaker = index.speakers[int(index.speaker[row])]
            ref = index.tracks[speaker.tracks[0]] if speaker.tracks else None
            height, width = (ref.height, ref.width) if ref is not None else CROP_SIZES[self.options.crops]
        mask = np.zeros(count, dtype=bool)
        planned: List[VideoPiece] = []
        for track_id, offset, track_frame, length in pieces:
            track = index.tracks[track_id]
            if (track.height, track.width) != (height, width):
                raise MCoRecDataError(track.path, f"crop size {track.width}x{track.height} differs from "
                                                  f"{width}x{height} of the segment's other track")
            planned.append(VideoPiece(track.path, int(track_frame), int(length), int(offset), int(track.num_frames),
                                      mouth_roi=track.lip == "derived"))
            mask[offset: offset + length] = True
        return VideoPlan(count, channels, height, width, mask, tuple(planned))

    def video(self, row: int, out: Optional[np.ndarray] = None,
              plan: Optional[VideoPlan] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Frames of index row ``row``: uint8 ``[T, C, H, W]`` (zero where no track covers a
        frame) and the bool mask ``[T]`` of frames that exist (SPEC §3).

        ``out``: a C-contiguous uint8 array of that shape to decode into (e.g. a slice of a
        batch; nothing is allocated); it is returned. ``plan``: :meth:`video_plan` of ``row``
        when the caller has it already."""
        plan = plan if plan is not None else self.video_plan(row)
        if out is None:
            video = np.empty(plan.shape, dtype=np.uint8)  # decoded into in place
        elif out.shape != plan.shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
            raise ValueError(f"out must be C-contiguous uint8 {plan.shape}, got {out.dtype} {out.shape}")
        else:
            video = out
        for piece in plan.pieces:
            target = video[piece.offset: piece.offset + piece.length]
            try:
                if piece.mouth_roi:
                    target[...] = self.mouth_rois(piece)
                elif self.frame_cache is not None:
                    target[...] = self.frame_cache.read(piece.path, self.color, piece.track_frame, piece.length,
                                                        piece.track_frames)
                else:
                    self.pool.video(piece.path).read(piece.track_frame, piece.length, self.color, out=target)
            except Exception:
                self.pool.drop_video(piece.path)
                raise
        video[~plan.mask] = 0  # padding: frames no track covers
        return video, plan.mask

    def audio_plan(self, row: int) -> AudioPlan:
        """Where index row ``row``'s audio comes from under the ``audio`` option: the speaker's
        ego recording for ``"ego"``, else ``central_video.mp4``, else the session's central crop
        tracks (see :class:`AudioPlan`); nothing is decoded."""
        index = self.index
        speaker = index.speakers[int(index.speaker[row])]
        session = index.sessions[speaker.session]
        start, stop = frame_to_sample(int(index.frame_start[row])), frame_to_sample(int(index.frame_end[row]))
        if self.options.audio == "ego":
            return AudioPlan("ego", start, stop, speaker.ego_audio_path, speaker.ego_audio_samples,
                             speaker.ego_audio_offset)
        if session.central_audio_path:
            return AudioPlan("central", start, stop, session.central_audio_path, session.central_audio_samples)
        own = int(index.speaker[row])
        tracks = tuple(sorted(session.audio_tracks, key=lambda t: index.tracks[t].owner != own))
        return AudioPlan("crops", start, stop, tracks=tracks)

    def audio(self, row: int, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Audio of index row ``row``: float32 ``[640 * T]`` at 16 kHz on the central timeline,
        from the source :meth:`audio_plan` decides (SPEC §2, §4): the lapel mic for
        ``audio="ego"`` (zero where the phone was not recording), else ``central_video.mp4``,
        else the central crops' own tracks (the speaker's first). ``out``: a float32 array of
        ``640 * T`` samples to write into (nothing is allocated); it is returned."""
        source = self.audio_plan(row)
        if out is not None and (out.shape != (source.stop - source.start,) or out.dtype != np.float32):
            raise ValueError(f"out must be float32 ({source.stop - source.start},), got {out.dtype} {out.shape}")
        if source.kind != "crops":
            signal = self.pool.audio(source.path, source.samples)
            return slice_padded(signal, source.start - source.offset, source.stop - source.offset, out=out)
        # No central video: the central crops carry the central mic; the speaker's own first.
        start, stop = source.start, source.stop
        if out is None:
            out = np.zeros(stop - start, dtype=np.float32)
        else:
            out[...] = 0
        todo = np.ones(stop - start, dtype=bool)
        for track_id in source.tracks:
            track = self.index.tracks[track_id]
            t0 = frame_to_sample(track.start)
            t1 = t0 + track.num_frames * SAMPLES_PER_FRAME
            lo, hi = max(start, t0), min(stop, t1)
            if hi <= lo or not todo[lo - start: hi - start].any():
                continue
            signal = self.pool.audio(track.path, track.num_frames * SAMPLES_PER_FRAME)
            span = todo[lo - start: hi - start]
            out[lo - start: hi - start][span] = signal[lo - t0: hi - t0][span]
            todo[lo - start: hi - start] = False
            if not todo.any():
                break
        return out

    def read(self, row: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(video, video_mask, audio)`` of index row ``row`` (see :meth:`video`, :meth:`audio`)."""
        video, mask = self.video(row)
        return video, mask, self.audio(row)

    def close(self) -> None:
        """Close every open media file of this process."""
        self.pool.close()
