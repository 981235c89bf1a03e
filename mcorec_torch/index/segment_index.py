"""The segment index (SPEC §3) as flat numpy arrays, and its file format.

Flat arrays (not Python objects per segment) so that DataLoader workers share the index's
pages instead of copying it; saved as one ``.npz`` with a JSON table of sessions, speakers,
tracks and the report.
"""
from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Tuple

import numpy as np

from .._io import atomic_write_bytes
from ..errors import PathLike
from .options import DatasetOptions
from .report import IndexReport


@dataclass
class Track:
    """One crop video on its view's timeline: frames ``[start, start + num_frames)``.
    ``position``: its place in the speaker's ``crops`` list of ``metadata.json`` (a crop the
    index could not use has no track, so track ids do not tell it)."""

    path: str
    start: int
    num_frames: int
    width: int
    height: int
    owner: int  # speaker row
    position: int = 0
    #: with ``crops="lip"``: ``"released"`` (``path`` is a mouth crop video) or ``"derived"``
    #: (``path`` is the face track, ``width`` and ``height`` the ROI's: the reader crops each frame's
    #: mouth, SPEC §13); ``""`` for face crops
    lip: str = ""


@dataclass
class SpeakerEntry:
    session: int
    name: str
    conversation: int
    tracks: List[int] = field(default_factory=list)
    ego_audio_path: str = ""
    ego_audio_offset: int = 0   # D (samples): ego sample = central sample - D
    ego_audio_samples: int = 0
    ego_frame_uem: Tuple[float, float] = (0.0, 0.0)  # (uem_central.start, uem_ego.start) seconds


@dataclass
class SessionEntry:
    split: str
    name: str
    path: str
    central_audio_path: str = ""   # central_video.mp4 when it has audio, else ""
    central_audio_samples: int = 0
    audio_tracks: List[int] = field(default_factory=list)  # central crop tracks, when no central audio


class SegmentIndex:
    """All segments of one or more split directories, as flat arrays.

    Per segment ``i``: ``speaker[i]`` (row of :attr:`speakers`), ``frame_start/frame_end``
    (central frames F0, F1), ``view_start`` (first frame on the read view's timeline: F0, or
    E0 for the ego view), ``start_ms/end_ms`` (cue times), text via :meth:`text`, and video
    pieces ``piece_ptr[i]:piece_ptr[i+1]`` of (track, offset in segment, first track frame,
    length). Frames of the segment no piece covers are padding.
    """

    ARRAYS = ("speaker", "frame_start", "frame_end", "view_start", "start_ms", "end_ms", "text_ptr",
              "piece_ptr", "piece_track", "piece_offset", "piece_track_frame", "piece_length", "text_bytes")

    def __init__(self, options: DatasetOptions, sessions: List[SessionEntry], speakers: List[SpeakerEntry],
                 tracks: List[Track], arrays: Dict[str, np.ndarray], report: IndexReport) -> None:
        #: The options it was built (or read back from the cache) for. Only the segment options
        #: (:meth:`DatasetOptions.segment_options`) decide its rows and are saved with it; the
        #: readers of its rows take the others (``color``, ...) from here too.
        self.options = options
        self.sessions = sessions
        self.speakers = speakers
        self.tracks = tracks
        self.report = report
        for name in self.ARRAYS:
            setattr(self, name, arrays[name])

    def __len__(self) -> int:
        return int(len(self.frame_start))

    @property
    def num_frames(self) -> np.ndarray:
        """Frames per segment (``F1 - F0``), int64 array."""
        return (self.frame_end - self.frame_start).astype(np.int64)

    def text(self, i: int) -> str:
        """The segment's cue text as written (merged cues joined by a space)."""
        return bytes(self.text_bytes[self.text_ptr[i]: self.text_ptr[i + 1]]).decode("utf-8")

    def pieces(self, i: int) -> List[Tuple[int, int, int, int]]:
        """``(track, offset_in_segment, track_frame, length)`` for every covered run of frames."""
        lo, hi = int(self.piece_ptr[i]), int(self.piece_ptr[i + 1])
        return [(int(self.piece_track[k]), int(self.piece_offset[k]), int(self.piece_track_frame[k]),
                 int(self.piece_length[k])) for k in range(lo, hi)]

    def segment_id(self, i: int) -> str:
        """``"{session}/{speaker}/{F0:07d}-{F1:07d}"`` (SPEC §3)."""
        speaker = self.speakers[int(self.speaker[i])]
        session = self.sessions[speaker.session]
        return f"{session.name}/{speaker.name}/{int(self.frame_start[i]):07d}-{int(self.frame_end[i]):07d}"

    # -- persistence -------------------------------------------------------------------
    def save(self, path: PathLike) -> None:
        """Write the index to ``path`` (an ``.npz``), atomically."""
        tables = {
            "options": self.options.segment_options(),
            "sessions": [asdict(s) for s in self.sessions],
            "speakers": [asdict(s) for s in self.speakers],
            "tracks": [asdict(t) for t in self.tracks],
        }
        tables["report"], tables["unusable"] = self.report.tables()
        buffer = io.BytesIO()
        arrays = {name: getattr(self, name) for name in self.ARRAYS}
        arrays["tables"] = np.frombuffer(json.dumps(tables).encode("utf-8"), dtype=np.uint8)
        np.savez(buffer, **arrays)
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: PathLike) -> "SegmentIndex":
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in cls.ARRAYS}
            tables = json.loads(bytes(data["tables"]).decode("utf-8"))
        speakers = []
        for s in tables["speakers"]:
            s["ego_frame_uem"] = tuple(s["ego_frame_uem"])
            speakers.append(SpeakerEntry(**s))
        report = IndexReport.from_tables(tables["report"], tables["unusable"])
        return cls(DatasetOptions(**tables["options"]), [SessionEntry(**s) for s in tables["sessions"]],
                   speakers, [Track(**t) for t in tables["tracks"]], arrays, report)
