"""``mcorec-torch bench --quick``: finishes in seconds and its JSON holds every row; the
within-round ratio and median arithmetic."""
from __future__ import annotations

import json

import pytest

from mcorec_torch.bench import Measurement, summarize_rounds
from mcorec_torch.cli import main
from mcorec_torch.gpu import cuda_unavailable_reason

ROW_KINDS = {"limit": 4, "dataset": 4, "baseline": 4, "frame_cache": 4, "steady": 8, "dataloader": 2, "gpu": 1,
             "activity": 2}
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
    # a quick pass is one batch: the worker rows are start-up and printed as such (issue 21)
    for w in (1, 2, 3):
        row = rows[f"dataloader w={w} lip/gray"]
        assert row["startup_dominated"] and 0 < row["median"]["first_batch_s"] <= row["median"]["wall_s"]
    loader_lines = [line for line in printed.splitlines() if line.startswith("dataloader w=")]
    assert len(loader_lines) == 3 and all("start-up, not throughput" in line for line in loader_lines)
    assert "the 1-process dataset row" not in printed
    for config in ("lip/gray", "lip/rgb", "face/rgb", "face/gray"):  # (d0)/(b) and (d)/(b) of issue 23
        for w in (0, 2):
            assert rows[f"steady w={w} {config}"]["ratios"]["one_process"] > 0
        assert f"  {config}: (d0)/(b) " in printed
    for name in ("activity lip/gray", "activity w=0 lip/gray"):  # the activity option's cost (issue 25)
        assert rows[name]["ratios"]["without_activity"] > 0
        assert f"{name}: " in printed and "x the same row without activity" in printed
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


def loader_row(workers, first_batch_s, wall_s, frames=800):
    """A ``dataloader`` row of :func:`run_bench`'s result, one round, as the report reads it."""
    from mcorec_torch.bench.rows import startup_dominated

    median = dict(Measurement(frames, 8, wall_s, wall_s, extra={"first_batch_s": first_batch_s}).to_dict())
    return {"kind": "dataloader", "config": "lip/gray", "workers": workers, "skipped": None, "rounds": [median],
            "median": median, "ratios": {"limit": 0.5, "baseline": 2.0, "one_process": 1.25},
            "ratio_rounds": {}, "references": {"limit": "limit lip/gray", "one_process": "dataset lip/gray"},
            "startup_dominated": startup_dominated(median)}


def report_of(rows):
    from mcorec_torch.bench.run import format_bench_report

    return format_bench_report({"split": {"path": "/x", "shape": "test"}, "rounds": 1, "rows": rows,
                                "index": {"cold_s": 1.0, "cached_s": 0.1},
                                "rss": {"samples": 16, "workers": 2, "first_mib": [100.0], "last_mib": [110.0]}})


def test_worker_rows_dominated_by_start_up_are_not_printed_as_throughput():
    """Issue 21: a DataLoader pass that spent most of its time before the first batch (worker
    start-up: ``--quick`` passes are one batch) prints as start-up, without frames/s or ratios;
    a pass in steady state prints its figures and ratio."""
    rows = {"dataloader w=1 lip/gray": loader_row(1, first_batch_s=0.9, wall_s=1.0),
            "dataloader w=2 lip/gray": loader_row(2, first_batch_s=0.5, wall_s=4.0)}
    lines = report_of(rows).splitlines()
    startup = next(line for line in lines if line.startswith("dataloader w=1"))
    assert "start-up, not throughput: 0.90 s of 1.00 s before the first batch" in startup and "800" not in startup
    steady = next(line for line in lines if line.startswith("dataloader w=2"))
    assert "start-up" not in steady and steady.split()[3] == "200"  # 800 frames in 4 s
    assert [line for line in lines if "the 1-process dataset row" in line] == [
        "dataloader w=2 lip/gray: 1.25x the 1-process dataset row (frames/s, within rounds)"]


def test_loader_pass_times_its_first_batch(dev_split, tmp_path):
    from mcorec_torch import MCoRecDataset
    from mcorec_torch.bench.rows import BATCH_SIZE, loader_pass

    ds = MCoRecDataset([dev_split[0]], cache_dir=tmp_path / "cache")
    order = list(range(min(len(ds), 3 * BATCH_SIZE)))
    got = loader_pass(ds, order, workers=0)
    assert got.segments == len(order) and got.frames == int(sum(ds.lengths[i] for i in order))
    assert 0 < got.extra["first_batch_s"] < got.wall_s


@pytest.mark.parametrize("workers", [0, 2])
def test_steady_loader_pass_counts_every_frame_and_the_workers_cpu(dev_split, tmp_path, workers):
    """Issue 23: the (d0) and (d) rows; workers are started before the timed pass, their CPU is
    read from /proc (they are not reaped inside the pass) and their RSS recorded."""
    from mcorec_torch import MCoRecDataset
    from mcorec_torch.bench.rows import BATCH_SIZE, steady_loader_pass

    ds = MCoRecDataset([dev_split[0]], cache_dir=tmp_path / "cache")
    order = list(range(min(len(ds), 3 * BATCH_SIZE + 2)))[::-1]
    got = steady_loader_pass(ds, order, workers=workers)
    assert got.segments == len(order) and got.frames == int(sum(ds.lengths[i] for i in order))
    assert got.cpu_s > 0 and got.extra["main_rss_mib"] > 0
    assert (got.extra["worker_rss_mib"] > 0) == (workers > 0)
    assert (got.extra["worker_shmem_mib"] > 0) == (workers > 0)  # the worker's batch blocks


def test_steady_rows_print_d0_and_d_against_the_dataset_row():
    from mcorec_torch.bench.run import _steady_lines

    def row(cpu, ratio=None, rss=(0.0, 0.0)):
        median = {"cpu_s_per_1000_frames": cpu, "main_rss_mib": rss[0], "worker_rss_mib": rss[1]}
        return {"median": median, "ratios": {"one_process": ratio}}
    rows = {"dataset face/rgb": row(0.16), "steady w=0 face/rgb": row(0.17, 0.96, (900.0, 0.0)),
            "steady w=2 face/rgb": row(0.18, 1.31, (910.0, 640.0)), "dataset lip/gray": row(0.06)}
    assert _steady_lines(rows) == [
        "DataLoader in steady state (batches of 8, collate; workers started before the pass) against the dataset row (b):",
        "  face/rgb: (d0)/(b) 0.96, (d)/(b) 1.31 with 2 workers; CPU s/1k frames (b) / (d0) / (d) 0.160 / 0.170 / "
        "0.180; RSS main 910 MiB, largest worker 640 MiB (0 MiB of it batch blocks)"]
