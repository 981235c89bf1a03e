"""``check``'s walk through one session folder: metadata (every shape problem of the file),
every listed file, the central UEMs against the video, the crops of each speaker (frame
counts, sizes, overlaps, audio), bbox and ASD json, and the labels (speaker_to_cluster.json,
VTT timing lines, cues that end before they start, reach beyond the video or overlap the
speaker's others). Each finding's class is its kind's (:mod:`.findings`)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from ..._io import read_json
from ...corpus.asd_scores import read_asd_scores
from ...corpus.cues import BAD_CUE, BEYOND_VIDEO, cue_fault
from ...corpus.layout import (CENTRAL_VIDEO_FILE, METADATA_FILE, VIEWS, cluster_path, labels_dir_exists, speaker_sort_key,
                              vtt_path)
from ...corpus.metadata import SessionMetadata, ViewInfo, load_metadata, read_bbox, read_speaker_to_cluster, read_track_json
from ...corpus.vtt import Cue, read_vtt
from ...errors import MCoRecDataError
from ...index.options import DatasetOptions
from ...index.sources import crop_media
from ...lips.store import LandmarkStore
from ...timeline import frame_to_ms
from . import findings as F
from .collector import Collector
from .media import DeepJob, MediaInfo, check_media

NO_CENTRAL_AUDIO = "without central_video.mp4's audio the central audio comes from the crops' own tracks"
#: A track or cue boundary may differ by one frame between a container and its json (SPEC §1).
_TOLERANCE = 1


class SessionChecker:
    """Checks sessions one by one into ``out``; ``sizes`` gathers the crop sizes the options
    read across the split (``(width, height)`` -> first track of that size); ``landmarks``: the
    landmark cache whose face tracks are checked (SPEC §13; ``None``: none is)."""

    def __init__(self, out: Collector, options: DatasetOptions, decode: bool, deep: Optional[List[DeepJob]],
                 landmarks: Optional[LandmarkStore] = None) -> None:
        self.out = out
        self.landmarks = landmarks
        self.options = options
        self.decode = decode
        self.deep = deep
        self.sizes: Dict[Tuple[int, int], Tuple[Path, int]] = {}

    def media(self, path: Path, expected: Optional[int] = None,
              no_audio: Optional[Tuple[F.Kind, str]] = None) -> Optional[MediaInfo]:
        return check_media(self.out, path, expected_frames=expected, no_audio=no_audio, decode=self.decode,
                           deep=self.deep)

    def check(self, session_dir: Path) -> None:
        out = self.out
        out.session = session_dir.name
        path = session_dir / METADATA_FILE
        errors: List[MCoRecDataError] = []
        out.files += 1
        meta = out.attempt(F.METADATA, path, lambda: load_metadata(session_dir, errors))
        out.errors(F.METADATA, errors, path)
        if meta is None:
            return
        listed = set(read_json(path))  # speakers of the file, also those whose entry is broken
        session_frames, central_audio = self.central(meta)
        for name, speaker in meta.speakers.items():
            self.uem(meta, name, session_frames)
            for view_name in VIEWS:
                view = speaker.view(view_name)
                if view is None:
                    continue
                if view_name == "ego" and view.video:
                    self.media(meta.path(view.video),
                               no_audio=(F.AUDIO_MISSING, "an ego video carries the speaker's lapel microphone"))
                self.crops(meta, name, view_name, view, central_audio, session_frames)
        self.labels(meta, listed, session_frames)

    def central(self, meta: SessionMetadata) -> Tuple[Optional[int], bool]:
        """Check the session's central video; returns (its frames or None, whether it has audio)."""
        videos = sorted({s.central.video for s in meta.speakers.values() if s.central and s.central.video})
        frames, audio = None, False
        for video in videos:
            path = meta.path(video)
            if not path.exists() and Path(video).name == CENTRAL_VIDEO_FILE:
                self.out.files += 1
                self.out.add(F.NO_CENTRAL_VIDEO, path, "no central video (as in the *_without_central_videos "
                                                       "download): the central audio comes from the crops' own tracks")
                continue
            info = self.media(path, no_audio=(F.CENTRAL_WITHOUT_AUDIO, NO_CENTRAL_AUDIO))
            if info is None or not info.on_timeline:  # left out: read as without a central video
                continue
            frames = frames or info.frames or None
            audio = audio or info.has_audio
        return frames, audio

    def uem(self, meta: SessionMetadata, speaker: str, session_frames: Optional[int]) -> None:
        """A central UEM that starts before the video or ends after it is clipped to the video."""
        central = meta.speakers[speaker].central
        if central is None or not session_frames or not all(map(math.isfinite, (central.uem_start, central.uem_end))):
            return
        start_ms, end_ms = central.uem_ms
        video_ms = frame_to_ms(session_frames)
        outside = ([f"starts at {start_ms / 1000:g} s, before the video"] if start_ms < 0 else []) + (
            [f"ends at {end_ms / 1000:g} s, after the video ({video_ms / 1000:g} s, {session_frames} frames)"]
            if end_ms > video_ms else [])
        if outside:
            self.out.add(F.UEM_OUTSIDE_VIDEO, meta.path(METADATA_FILE),
                         f"key '{speaker}.central.uem': the UEM {' and '.join(outside)}: clipped to the video "
                         f"(cues count from {max(start_ms, 0) / 1000:g} s to {min(end_ms, video_ms) / 1000:g} s)")

    def crops(self, meta: SessionMetadata, speaker: str, view_name: str, view: ViewInfo, central_audio: bool,
              session_frames: Optional[int]) -> None:
        out, options = self.out, self.options
        tracks: Dict[str, List[Tuple[MediaInfo, int]]] = {"face": [], "lip": []}
        for k, crop in enumerate(view.crops):
            timing_path = meta.path(crop.crop_metadata)
            out.files += 1
            timing = out.attempt(F.TRACK_JSON, timing_path, lambda: read_track_json(timing_path))
            expected = timing.frame_end - timing.frame_start if timing else None
            derived = view_name == options.view and crop_media(meta, crop, options)[1] == "derived"
            if derived and crop.lip is None:
                out.add(F.LIP_MISSING, meta.path(METADATA_FILE), f"key '{speaker}.{view_name}.crops[{k}]': no "
                                                                 f"mouth crop video; its mouth ROI is derived from "
                                                                 f"{crop.video} (SPEC §13)")
            self.cached_landmarks(meta.path(crop.video), derived)
            for kind, media in (("face", crop.video), ("lip", crop.lip)):
                if not media:
                    continue
                no_audio = self.crop_without_audio(kind, central_audio) if view_name == "central" else None
                info = self.media(meta.path(media), expected, no_audio)
                if info is not None and timing is not None and info.frames:
                    tracks[kind].append((info, timing.frame_start))
            for extra, finding, reader in ((crop.bbox, F.BBOX_JSON, read_bbox),
                                           (crop.asd, F.ASD_JSON, read_asd_scores)):
                if extra:
                    out.files += 1
                    out.attempt(finding, meta.path(extra), lambda: reader(meta.path(extra)))
        for kind, items in tracks.items():
            self.tracks_of_speaker(speaker, view_name, kind, items, session_frames)

    def cached_landmarks(self, face: Path, derived: bool) -> None:
        """What the cached landmarks of the face track ``face`` say (nothing is computed here:
        tracks without cached landmarks are not judged): no face on any frame of a track whose
        mouth ROI the options derive (``derived``) is a problem, its segments fail to load; no
        face on most frames (or on all, where the ROI is not derived) is a note."""
        if self.landmarks is None or not face.is_file():
            return
        cached = self.landmarks.cached(face)
        if cached is None or cached.missing_share <= 0.5:
            return
        counted = (f"{cached.backend} landmarks found no face on {cached.missing} of its {cached.frames} frames "
                   f"({100 * cached.missing_share:.0f}%)")
        if cached.missing < cached.frames:
            self.out.add(F.LANDMARKS_FAILED, face, f"{counted}: its derived mouth ROIs are interpolated over them")
        elif derived:
            self.out.add(F.LANDMARKS_NO_FACE, face, f"{counted}: crops='lip' derives its mouth ROI, which cannot be "
                                                    f"derived, so every segment reading it fails to load (read "
                                                    f"crops='face', or a mouth crop video for it)")
        else:
            self.out.add(F.LANDMARKS_FAILED, face, f"{counted}: its mouth ROI cannot be derived")

    def crop_without_audio(self, kind: str, central_audio: bool) -> Tuple[F.Kind, str]:
        """What a central crop of ``kind`` (face, lip) without an audio stream means: a problem
        where its audio is read (no central audio, the crops the options read), else a note."""
        if central_audio:
            return F.CROP_WITHOUT_AUDIO, "the central video's audio is read instead"
        if kind == self.options.crops:
            return F.AUDIO_MISSING, NO_CENTRAL_AUDIO
        return F.CROP_WITHOUT_AUDIO, f"with crops={self.options.crops!r} the central audio comes from those crops"

    def tracks_of_speaker(self, speaker: str, view_name: str, kind: str, items: List[Tuple[MediaInfo, int]],
                          session_frames: Optional[int]) -> None:
        """One size, no overlaps and (central view) inside the central video."""
        out = self.out
        if not items:
            return
        first = items[0][0]
        for info, _ in items[1:]:
            if (info.width, info.height) != (first.width, first.height):
                out.add(F.CROP_SIZE, info.path, f"crop size {info.width}x{info.height} differs from "
                                                f"{first.width}x{first.height} of {first.path.name}, another "
                                                f"{view_name} track of {speaker} (crops of one speaker must share a "
                                                "size)")
        if view_name == self.options.view and kind == self.options.crops:
            for info, _ in items:
                self.sizes.setdefault((info.width, info.height), (info.path, 0))
                path, n = self.sizes[(info.width, info.height)]
                self.sizes[(info.width, info.height)] = (path, n + 1)
        ordered = sorted(items, key=lambda item: item[1])
        end, end_track = None, None
        for info, start in ordered:
            if end is not None and start < end - _TOLERANCE:
                out.add(F.TRACKS_OVERLAP, info.path, f"frames {start}-{start + info.frames - 1} overlap "
                                                     f"{end_track.name} (up to frame {end - 1}), another {view_name} "
                                                     f"track of {speaker}; {end_track.name} serves the shared frames")
            if end is None or start + info.frames > end:
                end, end_track = start + info.frames, info.path
            if view_name == "central" and session_frames and start + info.frames > session_frames + _TOLERANCE:
                out.add(F.TRACK_BEYOND_VIDEO, info.path, f"track ends at frame {start + info.frames}, beyond the "
                                                         f"central video ({session_frames} frames)")

    def labels(self, meta: SessionMetadata, listed: Set[str], session_frames: Optional[int]) -> None:
        out = self.out
        session_dir, label_dir = meta.session_dir, self.options.label_dir
        if not labels_dir_exists(session_dir, label_dir):
            return
        cluster_file = cluster_path(session_dir, label_dir)
        out.files += 1
        clusters = out.attempt(F.CLUSTERS, cluster_file, lambda: read_speaker_to_cluster(cluster_file))
        if clusters is not None:
            for name in clusters:
                if name not in listed:
                    out.add(F.CLUSTER_UNKNOWN_SPEAKER, cluster_file, f"key '{name}': speaker is not in metadata.json")
            for name in sorted(listed, key=speaker_sort_key):
                if name not in clusters:
                    out.add(F.CLUSTER_MISSING_SPEAKER, cluster_file,
                            f"speaker {name} of metadata.json has no conversation id here")
        for vtt in sorted((session_dir / label_dir).glob("*.vtt")):
            if vtt.stem not in listed:
                out.add(F.VTT_UNKNOWN_SPEAKER, vtt, "transcript of a speaker metadata.json does not list")
        for name in sorted(listed, key=speaker_sort_key):
            speaker = meta.speakers.get(name)
            path = vtt_path(session_dir, name, label_dir)
            out.files += 1
            if speaker is not None and speaker.central is None:
                out.add(F.LABELS_WITHOUT_CENTRAL, meta.path(METADATA_FILE),
                        f"key '{name}': the speaker has labels but no 'central' entry (its UEM decides which cues "
                        "count)")
            errors: List[MCoRecDataError] = []
            cues = out.attempt(F.VTT, path, lambda: read_vtt(path, errors))
            out.errors(F.VTT, errors, path)
            self.cues(path, cues or [], session_frames)

    def cues(self, path: Path, cues: List[Cue], session_frames: Optional[int]) -> None:
        out = self.out
        for cue in cues:
            # the index's cue rule; cues outside the UEM are expected (the scorer drops them too)
            fault = cue_fault(cue, None, session_frames)
            if fault == BAD_CUE:
                out.add(F.BAD_CUE, path, f"{path}:{cue.line}: cue ends at {cue.end_ms} ms, not after its start "
                                         f"{cue.start_ms} ms")
            elif fault == BEYOND_VIDEO:
                out.add(F.CUE_BEYOND_VIDEO, path, f"{path}:{cue.line}: cue ends at {cue.end_ms} ms, beyond the "
                                                  f"video ({session_frames} frames)")
        latest: Optional[Cue] = None
        for cue in sorted((c for c in cues if c.end_ms > c.start_ms), key=lambda c: (c.start_ms, c.end_ms)):
            if latest is not None and cue.start_ms < latest.end_ms:
                out.add(F.CUE_OVERLAP, path, f"{path}:{cue.line}: cue {cue.start_ms}-{cue.end_ms} ms overlaps the "
                                             f"cue on line {latest.line} ({latest.start_ms}-{latest.end_ms} ms) of the "
                                             "same speaker; each is its own segment")
            if latest is None or cue.end_ms > latest.end_ms:
                latest = cue
