"""``mcorec-torch bench --quick``: finishes in seconds and its JSON holds every row; the
within-round ratio and median arithmetic."""
from __future__ import annotations

import json

import pytest

from mcorec_torch.bench import Measurement, summarize_rounds
from mcorec_torch.cli import main
from mcorec_torch.gpu import cuda_unavailable_reason

ROW_KINDS = {"limit": 4, "dataset": 4, "baseline": 4, "frame_cache": 4, "dataloader": 2, "gpu": 1}
FIGURES = ("frames_per_s", "segments_per_s", "cpu_s_per_1000_frames", "wall_s", "cpu_s", "frames", "segments")


@pytest.mark.slow  # DataLoader rows with 1, 2 and 3 worker processes
def test_quick_bench_json_holds_every_row(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--out", str(tmp_path / "work"), "--workers", "3", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "limit" in printed and "index build" in printed and "worker RSS" in printed
    result = json.loads(out.read_text())
    rows = result["rows"]
    kinds = {}
    for name, row in rows.items():
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
        if row["skipped"]:
            assert isinstance(row["skipped"], str) and row["skipped"], name
            continue
        assert row["rounds"], name
        for key in FIGURES:
            assert isinstance(row["median"][key], (int, float)) and row["median"][key] >= 0, (name, key)
    if cuda_unavailable_reason("cuda") is None:  # GPU rows: 3 lane counts x 4 configs, each with its CPU row
        assert kinds == dict(ROW_KINDS, dataloader=3, gpu=12, cpu_loader=12)
    else:
        assert kinds == dict(ROW_KINDS, dataloader=3)  # workers 1, 2 and --workers 3
        assert rows["gpu lip/gray"]["skipped"].startswith("no GPU decoding here: ")
    for config in ("lip/gray", "lip/rgb", "face/rgb", "face/gray"):
        assert f"dataset {config}" in rows and f"limit {config}" in rows
        assert rows[f"limit {config}"]["skipped"] is None
        assert rows[f"dataset {config}"]["ratios"]["limit"] > 0
    assert {f"dataloader w={w} lip/gray" for w in (1, 2, 3)} <= set(rows)
    assert rows["dataloader w=2 lip/gray"]["ratios"]["one_process"] > 0
    assert result["index"]["cold_s"] > 0 and result["index"]["cached_s"] > 0
    assert result["rss"]["samples"] == 16 and all(v > 0 for v in result["rss"]["last_mib"])


def m(fps: float) -> Measurement:
    """100 frames in ``100 / fps`` seconds, 2 segments, 1 CPU second."""
    return Measurement(frames=100, segments=2, wall_s=100.0 / fps, cpu_s=1.0)


def test_ratios_are_taken_within_rounds_then_medianed():
    rounds = [{"ours": m(50), "limit": m(100)},   # ratio 0.5
              {"ours": m(90), "limit": m(100)},   # ratio 0.9
              {"ours": m(20), "limit": m(25)}]    # ratio 0.8; the ratio of medians would be 0.5
    refs = {"ours": {"limit": "limit", "baseline": None}}
    summary = summarize_rounds(rounds, refs)
    assert summary["ours"]["ratios"]["limit"] == pytest.approx(0.8)
    assert summary["ours"]["ratios"]["baseline"] is None
    assert summary["ours"]["ratio_rounds"]["limit"] == pytest.approx([0.5, 0.9, 0.8])
    assert summary["ours"]["median"]["frames_per_s"] == pytest.approx(50)
    assert summary["limit"]["median"]["frames_per_s"] == pytest.approx(100)
    assert summary["ours"]["median"]["cpu_s_per_1000_frames"] == pytest.approx(10.0)
    assert summary["ours"]["median"]["segments_per_s"] == pytest.approx(1.0)


def test_a_round_missing_the_reference_gives_no_ratio_for_it():
    rounds = [{"ours": m(50), "limit": m(100)}, {"ours": m(60)}]
    summary = summarize_rounds(rounds, {"ours": {"limit": "limit"}})
    assert summary["ours"]["ratio_rounds"]["limit"] == [pytest.approx(0.5), None]
    assert summary["ours"]["ratios"]["limit"] == pytest.approx(0.5)


def test_quick_bench_runs_the_baseline_peer_when_torchcodec_imports(tmp_path):
    """With torchcodec (and the system FFmpeg it links) the peer rows are measured, not skipped."""
    pytest.importorskip("torchcodec.decoders", exc_type=ImportError)
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--out", str(tmp_path / "work"), "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    for config in ("lip/gray", "lip/rgb", "face/rgb", "face/gray"):
        assert rows[f"baseline {config}"]["skipped"] is None, rows[f"baseline {config}"]["skipped"]
        assert rows[f"baseline {config}"]["median"]["frames"] > 0
        assert rows[f"dataset {config}"]["ratios"]["baseline"] > 0


def test_the_gpu_stage_row_measures_latency_on_the_cpu_stand_in(dev_split, tmp_path):
    from mcorec_torch import MCoRecDataset
    from mcorec_torch.bench.gpu_rows import gpu_pass

    ds = MCoRecDataset([dev_split[0]], cache_dir=tmp_path / "cache")
    order = list(range(min(len(ds), 20)))[::-1]
    got = gpu_pass(ds, order, threads=2, device="cpu")
    assert got.segments == len(order)
    assert got.frames == int(sum(ds.lengths[i] for i in order))
    figures = got.to_dict()
    assert 0 < figures["p50_batch_s"] <= figures["p95_batch_s"] and figures["gpu_peak_mib"] == 0.0
