"""Every kind of finding ``check`` reports, each with its class declared here once (SPEC §10).

A **problem** makes the library refuse, skip, lose or misplace data, or contradicts the
format (SPEC §1); ``check`` exits 1 when it finds one. A **note** is loadable but unusual and
does not change the exit status. Each :class:`Kind` says what it is and why it is in its
class: what the library does with such data. The checking guide (``docs/checking.md``) holds
:func:`markdown_table` of :data:`KINDS`, and a test keeps the two equal."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

from .result import NOTE, PROBLEM


@dataclass(frozen=True)
class Kind:
    """A kind of finding: ``name`` (in the JSON report), ``level`` (:data:`PROBLEM` or
    :data:`NOTE`), ``what`` is found and ``why`` it is in that class (what the library does)."""

    name: str
    level: str
    what: str
    why: str


def _problem(name: str, what: str, why: str) -> Kind:
    return Kind(name, PROBLEM, what, why)


def _note(name: str, what: str, why: str) -> Kind:
    return Kind(name, NOTE, what, why)


# -- the split folder ---------------------------------------------------------------------
SPLIT_MISSING = _problem("split_missing", "the split folder does not exist", "the dataset refuses it")
SPLIT_LEVEL = _problem("split_level", "a session folder, or the folder of the splits, given instead of a split",
                       "the dataset refuses it, naming the folder to pass")
NO_SESSIONS = _problem("no_sessions", "a split folder without session folders", "the dataset refuses it")
MIXED_CROP_SIZES = _note("mixed_crop_sizes", "crops of more than one size across the split (of the view and "
                                             "crops the options read)",
                         "each speaker's tracks share one size, so every segment loads; a batch needs one size "
                         "(resize in a transform)")

# -- metadata and the files it lists ------------------------------------------------------
METADATA = _problem("metadata", "`metadata.json` missing, not JSON or not the documented shape; numbers that "
                                "are not finite or not plausible; paths that are absolute or leave the session "
                                "folder", "the index refuses the session")
LIP_MISSING = _note("lip_missing", "a crop without a mouth crop video (`lip`; ego crops have none) where `--crops "
                                   "lip` reads, and none that `mcorec-torch lips` wrote (beside it or in `--lip-dir`)",
                    "its 96x96 mouth ROI is derived from the face frames (SPEC §13, the `lips` extra)")
MISSING_FILE = _problem("missing_file", "a file `metadata.json` lists does not exist (`central_video.mp4`: "
                                        "see `no_central_video`)",
                        "a missing crop: the index stops naming it (`on_error=\"raise\"`) or leaves its track out, "
                        "counted (`\"skip\"`); a missing ego video loses the speaker's lapel audio")
NO_CENTRAL_VIDEO = _note("no_central_video", "no `central_video.mp4` (the `*_without_central_videos` download)",
                         "the central audio comes from the central crops' own audio tracks (SPEC §4)")

# -- media --------------------------------------------------------------------------------
MEDIA_UNREADABLE = _problem("media_unreadable", "a media file that does not open or demux (truncated, not an mp4)",
                            "the index stops naming it (`on_error=\"raise\"`) or leaves out what it serves, counted "
                            "(`\"skip\"`)")
NO_FRAMES = _problem("no_frames", "a video without a video stream or without frames",
                     "its track serves no frame: the segments that need it lose their video")
FRAME_RATE = _problem("frame_rate", "a video not at 25 fps (its frames would drift half a frame or more off the "
                                    "25 fps timeline)",
                      "read as 25 fps every frame would be in the wrong place (SPEC §2): the index leaves the track "
                      "out, counted (a central video: the session is read as without one)")
FRAME_COUNT = _problem("frame_count", "a crop whose container holds more than one frame more or fewer than its "
                                      "json's `frame_end - frame_start`",
                       "the container's count is used (SPEC §2): a shorter file lost frames (its segments lose "
                       "video), a longer one contradicts its timing")
DECODE_FAILED = _problem("decode_failed", "frames that do not decode (the first and last; every frame with "
                                          "`--deep`)",
                         "a segment that reads them fails: skipped with `on_error=\"skip\"`, else an error")
AUDIO_MISSING = _problem("audio_missing", "no audio stream where the library reads audio: an ego video (the lapel "
                                          "microphone), a crop when the central audio comes from the crops",
                         "`audio=\"ego\"` drops the speaker's segments (`no_audio`); a crop without audio fails "
                         "the samples whose audio it serves")
CENTRAL_WITHOUT_AUDIO = _note("central_without_audio", "a central video without an audio stream",
                              "as without the central video: the central audio comes from the crops' own tracks")
AUDIO_CONVERTED = _note("audio_converted", "audio not at 16 kHz or not mono",
                        "resampled to 16 kHz without lag and averaged to mono when it is read (SPEC §2)")
CROP_WITHOUT_AUDIO = _note("crop_without_audio", "a central crop without its own audio where its audio is not read "
                                                 "(the central video has audio, or the crop is not of the `--crops` "
                                                 "kind)",
                           "the central video's audio is read; without it, the audio of the crops `--crops` names")

# -- track, bbox and ASD json; the tracks of a speaker ------------------------------------
TRACK_JSON = _problem("track_json", "a track json (`track_XX.json`) missing, malformed or with bad frame numbers",
                      "the index stops naming it (`on_error=\"raise\"`) or leaves the track out, counted "
                      "(`\"skip\"`)")
BBOX_JSON = _problem("bbox_json", "a bbox json missing, malformed, or with keys that are not frames",
                     "contradicts the format (SPEC §1); tools that read the boxes fail on it")
ASD_JSON = _problem("asd_json", "an ASD json missing, malformed, or with non-finite scores or keys that are not "
                                "frames", "`segments=\"asd\"` refuses it")
CROP_SIZE = _problem("crop_size", "tracks of one speaker with different crop sizes",
                     "the index refuses the speaker (a segment may take frames from two of its tracks)")
TRACKS_OVERLAP = _note("tracks_overlap", "two tracks of one speaker that cover the same frames",
                       "the earlier-listed track serves the shared frames (SPEC §3); both show that speaker at "
                       "those central frames, so nothing is refused, lost or misplaced")
TRACK_BEYOND_VIDEO = _problem("track_beyond_video", "a central track that reaches past the end of the central video",
                              "contradicts its timing (track frame j is central frame `frame_start + j`, SPEC §2): "
                              "its frames cannot all be in the right place")
UEM_OUTSIDE_VIDEO = _note("uem_outside_video", "a central UEM that starts before 0 s or ends after the central video",
                          "clipped to the video: cues count only inside both (a cue beyond the video is "
                          "`cue_beyond_video`)")

# -- labels -------------------------------------------------------------------------------
CLUSTERS = _problem("clusters", "`speaker_to_cluster.json` missing (where there are labels) or malformed",
                    "malformed: the index refuses it; missing: every speaker's conversation id is lost (-1)")
CLUSTER_UNKNOWN_SPEAKER = _problem("cluster_unknown_speaker", "`speaker_to_cluster.json` names a speaker "
                                                              "`metadata.json` does not list",
                                   "the index refuses the session")
CLUSTER_MISSING_SPEAKER = _problem("cluster_missing_speaker", "a speaker of `metadata.json` without a conversation "
                                                              "id", "its conversation id is lost (-1)")
VTT_UNKNOWN_SPEAKER = _problem("vtt_unknown_speaker", "a transcript of a speaker `metadata.json` does not list",
                               "the index refuses the session")
LABELS_WITHOUT_CENTRAL = _problem("labels_without_central", "a speaker with labels but no `central` entry",
                                  "the index refuses the session (the central UEM decides which cues count)")
VTT = _problem("vtt", "a transcript missing or not WebVTT; a line that looks like a cue timing but does not parse "
                      "(`->`, `=>`, `→`, no arrow)",
               "the index refuses it (webvtt-py would drop such a cue silently)")
BAD_CUE = _problem("bad_cue", "a cue with end <= start", "dropped (`bad_cue` in the segment report)")
CUE_BEYOND_VIDEO = _problem("cue_beyond_video", "a cue that ends after the central video",
                            "dropped (`beyond_video` in the segment report)")
CUE_OVERLAP = _note("cue_overlap", "cues of one speaker that overlap in time",
                    "each becomes its own segment (never merged); the shared frames are in both")

# -- mouth ROIs (SPEC §13) ----------------------------------------------------------------
LANDMARKS_NO_FACE = _problem("landmarks_no_face", "a face track whose mouth ROI `--crops lip` derives (no mouth "
                                                  "crop video, or `--lip-source derived`) and whose cached "
                                                  "landmarks found no face on any frame",
                              "its mouth ROI cannot be derived: every segment that reads it fails to load (an error; "
                              "skipped and counted under `on_error=\"skip\"`), so its video is lost")
LANDMARKS_FAILED = _note("landmarks_failed", "a face track on most of whose frames the cached landmarks found no "
                                             "face (on all of them where its ROI is not derived; where it is, "
                                             "`landmarks_no_face`); run `mcorec-torch lips --landmarks-only` to cache "
                                             "them",
                         "its derived mouth ROIs are interpolated over those frames from the frames with a face, so "
                         "its segments load")

#: Every kind, in the order the guide lists them.
KINDS: Tuple[Kind, ...] = (
    SPLIT_MISSING, SPLIT_LEVEL, NO_SESSIONS, MIXED_CROP_SIZES, METADATA, LIP_MISSING, MISSING_FILE, NO_CENTRAL_VIDEO,
    MEDIA_UNREADABLE, NO_FRAMES, FRAME_RATE, FRAME_COUNT, DECODE_FAILED, AUDIO_MISSING, CENTRAL_WITHOUT_AUDIO,
    AUDIO_CONVERTED, CROP_WITHOUT_AUDIO, TRACK_JSON, BBOX_JSON, ASD_JSON, CROP_SIZE, TRACKS_OVERLAP,
    TRACK_BEYOND_VIDEO, UEM_OUTSIDE_VIDEO, CLUSTERS, CLUSTER_UNKNOWN_SPEAKER, CLUSTER_MISSING_SPEAKER,
    VTT_UNKNOWN_SPEAKER, LABELS_WITHOUT_CENTRAL, VTT, BAD_CUE, CUE_BEYOND_VIDEO, CUE_OVERLAP, LANDMARKS_NO_FACE,
    LANDMARKS_FAILED,
)
#: Kinds by name.
BY_NAME: Dict[str, Kind] = {kind.name: kind for kind in KINDS}


def markdown_table() -> str:
    """The table of every kind for the checking guide: problems first, then notes."""
    lines: List[str] = ["| finding | class | what | why |", "|---|---|---|---|"]
    for level in (PROBLEM, NOTE):
        lines += [f"| `{k.name}` | {k.level} | {k.what} | {k.why} |" for k in KINDS if k.level == level]
    return "\n".join(lines)
