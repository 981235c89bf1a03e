"""``mcorec-torch show SEGMENT_ID|INDEX --split SPLIT_DIR``: a segment as a PNG contact sheet
(frames, mask, activity of the session's speakers, waveform, spectrogram; the ``viz`` extra),
with ``--video`` also an mp4 preview with the audio and the transcript burned in."""
from __future__ import annotations

import argparse
from pathlib import Path

from ._options import add_dataset_options, dataset_kwargs


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("show", help="draw one segment as a PNG contact sheet (frames, mask, audio)")
    parser.add_argument("segment", metavar="SEGMENT_ID|INDEX",
                        help="a segment id ('session/spk_N/F0-F1', as `index` and the samples name it) or a dataset index")
    parser.add_argument("--split", required=True, metavar="SPLIT_DIR", help="the split directory holding the segment")
    parser.add_argument("--out", metavar="PNG", default=None,
                        help="the picture (default: the segment id with '/' as '_', .png, in the current folder)")
    parser.add_argument("--video", nargs="?", const="", default=None, metavar="MP4",
                        help="also write an mp4 preview: the frames with the transcript burned in and the audio "
                             "(default path: the picture's, .mp4)")
    add_dataset_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.dataset import MCoRecDataset
    from ..viz.preview import preview_segment
    from ..viz.segment import show_segment
    from ..viz.segment_data import find_segment

    dataset = MCoRecDataset(args.split, **dataset_kwargs(args))  # errors: exit 2 (cli)
    index = find_segment(dataset, int(args.segment) if args.segment.isdigit() else args.segment)
    out = Path(args.out) if args.out else Path(dataset.segment_id(index).replace("/", "_") + ".png")
    picture = show_segment(dataset, index, out)
    padding = sum(tile.padding for tile in picture.tiles)
    print(f"wrote {picture.path}: {picture.segment_id}, {len(picture.tiles)} frame tiles (every {picture.every}, "
          f"{padding} padding), {picture.size[0]}x{picture.size[1]} pixels, in {picture.seconds:.2f} s")
    if args.video is not None:
        preview = preview_segment(dataset, index, Path(args.video) if args.video else out.with_suffix(".mp4"))
        print(f"wrote {preview.path}: {preview.frames} frames with audio, in {preview.seconds:.2f} s")
    return 0
