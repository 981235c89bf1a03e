"""``check``'s walk through one session folder: metadata (every shape problem of the file),
every listed file, the crops of each speaker (frame counts, sizes, overlaps, audio where it
is needed), bbox and ASD json, and the labels (speaker_to_cluster.json, VTT timing lines,
cues that end before they start, reach beyond the video or overlap the speaker's others)."""
from __future__ import annotations

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
from ...index.sources import missing_lip_message
from .collector import Collector
from .media import DeepJob, MediaInfo, check_media

NO_CENTRAL_AUDIO = "without central_video.mp4's audio the central audio comes from the crops' own tracks"
#: A track or cue boundary may differ by one frame between a container and its json (SPEC §1).
_TOLERANCE = 1


class SessionChecker:
    """Checks sessions one by one into ``out``; ``sizes`` gathers the crop sizes the options
    read across the split (``(width, height)`` -> first track of that size)."""

    def __init__(self, out: Collector, options: DatasetOptions, decode: bool, deep: Optional[List[DeepJob]]) -> None:
        self.out = out
        self.options = options
        self.decode = decode
        self.deep = deep
        self.sizes: Dict[Tuple[int, int], Tuple[Path, int]] = {}

    def media(self, path: Path, expected: Optional[int] = None, audio_needed: Optional[str] = None) -> Optional[MediaInfo]:
        return check_media(self.out, path, expected_frames=expected, audio_needed=audio_needed, decode=self.decode,
                           deep=self.deep)

    def check(self, session_dir: Path) -> None:
        out = self.out
        out.session = session_dir.name
        path = session_dir / METADATA_FILE
        errors: List[MCoRecDataError] = []
        out.files += 1
        meta = out.attempt(path, lambda: load_metadata(session_dir, errors))
        out.errors(errors, path)
        if meta is None:
            return
        listed = set(read_json(path))  # speakers of the file, also those whose entry is broken
        session_frames, central_audio = self.central(meta)
        for name, speaker in meta.speakers.items():
            for view_name in VIEWS:
                view = speaker.view(view_name)
                if view is None:
                    continue
                if view_name == "ego" and view.video:
                    self.media(meta.path(view.video), audio_needed="an ego video carries the speaker's lapel microphone")
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
                self.out.note(path, "no central video (as in the *_without_central_videos download): the central "
                                    "audio comes from the crops' own tracks")
                continue
            info = self.media(path)
            if info is None:
                continue
            if not info.has_audio:
                self.out.note(path, f"has no audio stream: {NO_CENTRAL_AUDIO}")
            frames = frames or info.frames or None
            audio = audio or info.has_audio
        return frames, audio

    def crops(self, meta: SessionMetadata, speaker: str, view_name: str, view: ViewInfo, central_audio: bool,
              session_frames: Optional[int]) -> None:
        out, options = self.out, self.options
        tracks: Dict[str, List[Tuple[MediaInfo, int]]] = {"face": [], "lip": []}
        for k, crop in enumerate(view.crops):
            timing_path = meta.path(crop.crop_metadata)
            out.files += 1
            timing = out.attempt(timing_path, lambda: read_track_json(timing_path))
            expected = timing.frame_end - timing.frame_start if timing else None
            if view_name == options.view and crop.media(options.crops) is None:
                out.add(meta.path(METADATA_FILE), f"key '{speaker}.{view_name}.crops[{k}]': "
                                                  f"{missing_lip_message(view_name, options.crops)}")
            for kind, media in (("face", crop.video), ("lip", crop.lip)):
                if not media:
                    continue
                needed = (NO_CENTRAL_AUDIO if view_name == "central" and not central_audio and kind == options.crops
                          else None)
                info = self.media(meta.path(media), expected, needed)
                if info is not None and timing is not None and info.frames:
                    tracks[kind].append((info, timing.frame_start))
            for extra, reader in ((crop.bbox, read_bbox), (crop.asd, read_asd_scores)):
                if extra:
                    out.files += 1
                    out.attempt(meta.path(extra), lambda: reader(meta.path(extra)))
        for kind, items in tracks.items():
            self.tracks_of_speaker(speaker, view_name, kind, items, session_frames)

    def tracks_of_speaker(self, speaker: str, view_name: str, kind: str, items: List[Tuple[MediaInfo, int]],
                          session_frames: Optional[int]) -> None:
        """One size, no overlaps and (central view) inside the central video."""
        out = self.out
        if not items:
            return
        first = items[0][0]
        for info, _ in items[1:]:
            if (info.width, info.height) != (first.width, first.height):
                out.add(info.path, f"crop size {info.width}x{info.height} differs from {first.width}x{first.height} "
                                   f"of {first.path.name}, another {view_name} track of {speaker} (crops of one "
                                   f"speaker must share a size)")
        if view_name == self.options.view and kind == self.options.crops:
            for info, _ in items:
                self.sizes.setdefault((info.width, info.height), (info.path, 0))
                path, n = self.sizes[(info.width, info.height)]
                self.sizes[(info.width, info.height)] = (path, n + 1)
        ordered = sorted(items, key=lambda item: item[1])
        end, end_track = None, None
        for info, start in ordered:
            if end is not None and start < end - _TOLERANCE:
                out.add(info.path, f"frames {start}-{start + info.frames - 1} overlap {end_track.name} "
                                   f"(up to frame {end - 1}), another {view_name} track of {speaker}")
            if end is None or start + info.frames > end:
                end, end_track = start + info.frames, info.path
            if view_name == "central" and session_frames and start + info.frames > session_frames + _TOLERANCE:
                out.add(info.path, f"track ends at frame {start + info.frames}, beyond the central video "
                                   f"({session_frames} frames)")

    def labels(self, meta: SessionMetadata, listed: Set[str], session_frames: Optional[int]) -> None:
        out = self.out
        session_dir, label_dir = meta.session_dir, self.options.label_dir
        if not labels_dir_exists(session_dir, label_dir):
            return
        cluster_file = cluster_path(session_dir, label_dir)
        out.files += 1
        clusters = out.attempt(cluster_file, lambda: read_speaker_to_cluster(cluster_file))
        if clusters is not None:
            for name in clusters:
                if name not in listed:
                    out.add(cluster_file, f"key '{name}': speaker is not in metadata.json")
            for name in sorted(listed, key=speaker_sort_key):
                if name not in clusters:
                    out.add(cluster_file, f"speaker {name} of metadata.json has no conversation id here")
        for vtt in sorted((session_dir / label_dir).glob("*.vtt")):
            if vtt.stem not in listed:
                out.add(vtt, "transcript of a speaker metadata.json does not list")
        for name in sorted(listed, key=speaker_sort_key):
            speaker = meta.speakers.get(name)
            path = vtt_path(session_dir, name, label_dir)
            out.files += 1
            if speaker is not None and speaker.central is None:
                out.add(meta.path(METADATA_FILE), f"key '{name}': the speaker has labels but no 'central' entry "
                                                  "(its UEM decides which cues count)")
            errors: List[MCoRecDataError] = []
            cues = out.attempt(path, lambda: read_vtt(path, errors))
            out.errors(errors, path)
            self.cues(path, cues or [], session_frames)

    def cues(self, path: Path, cues: List[Cue], session_frames: Optional[int]) -> None:
        out = self.out
        for cue in cues:
            # the index's cue rule; cues outside the UEM are expected (the scorer drops them too)
            fault = cue_fault(cue, None, session_frames)
            if fault == BAD_CUE:
                out.add(path, f"{path}:{cue.line}: cue ends at {cue.end_ms} ms, not after its start {cue.start_ms} ms")
            elif fault == BEYOND_VIDEO:
                out.add(path, f"{path}:{cue.line}: cue ends at {cue.end_ms} ms, beyond the video "
                              f"({session_frames} frames)")
        latest: Optional[Cue] = None
        for cue in sorted((c for c in cues if c.end_ms > c.start_ms), key=lambda c: (c.start_ms, c.end_ms)):
            if latest is not None and cue.start_ms < latest.end_ms:
                out.add(path, f"{path}:{cue.line}: cue {cue.start_ms}-{cue.end_ms} ms overlaps the cue on line "
                              f"{latest.line} ({latest.start_ms}-{latest.end_ms} ms) of the same speaker")
            if latest is None or cue.end_ms > latest.end_ms:
                latest = cue
