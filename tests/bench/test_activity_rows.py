"""The bench rows of the activity option's cost: the same segments in the same order as the rows
they are compared with, and a ratio taken within each round."""
from mcorec_torch import MCoRecDataset
from mcorec_torch.bench.activity_rows import ACTIVITY_KIND, WITHOUT_ACTIVITY, activity_rows
from mcorec_torch.bench.measure import summarize_rounds
from mcorec_torch.bench.rows import dataset_pass, steady_loader_pass
from mcorec_torch.bench.run import _name, format_bench_report


def test_activity_rows_measure_the_same_frames_as_their_references(dev_split, tmp_path):
    root = str(dev_split[0])
    config = ("lip", "gray")
    plain = MCoRecDataset(root, crops="lip", color="gray", cache_dir=tmp_path)
    order = [3, 1, 4, 1, 5, 9, 2, 6, 0, 7]
    rows, refs, opened = activity_rows([root], tmp_path, config, order, _name)
    assert [(name, meta["kind"], meta.get("workers")) for name, meta, _ in rows] == [
        ("activity lip/gray", ACTIVITY_KIND, None), ("activity w=0 lip/gray", ACTIVITY_KIND, 0)]
    assert refs == {"activity lip/gray": {WITHOUT_ACTIVITY: "dataset lip/gray"},
                    "activity w=0 lip/gray": {WITHOUT_ACTIVITY: "steady w=0 lip/gray"}}
    assert opened[0].options.activity == "labels"
    rounds = []
    for _ in range(2):
        measured = {"dataset lip/gray": dataset_pass(plain, order), "steady w=0 lip/gray": steady_loader_pass(plain, order, 0)}
        measured.update({name: run() for name, _, run in rows})
        rounds.append(measured)
    for name, reference in (("activity lip/gray", "dataset lip/gray"), ("activity w=0 lip/gray", "steady w=0 lip/gray")):
        assert rounds[0][name].frames == rounds[0][reference].frames == int(plain.lengths[order].sum())
    summary = summarize_rounds(rounds, refs)
    for name in refs:
        per_round = summary[name]["ratio_rounds"][WITHOUT_ACTIVITY]
        assert len(per_round) == 2 and all(r > 0 for r in per_round)
        assert summary[name]["ratios"][WITHOUT_ACTIVITY] > 0
    # the printed report: a line per activity row with its ratio
    kinds = {"dataset lip/gray": ("dataset", None), "steady w=0 lip/gray": ("steady", 0),
             "activity lip/gray": (ACTIVITY_KIND, None), "activity w=0 lip/gray": (ACTIVITY_KIND, 0)}
    table = {}
    for name, (kind, workers) in kinds.items():
        table[name] = dict(summary[name], kind=kind, config="lip/gray", skipped=None, startup_dominated=False,
                           references=refs.get(name, {}), **({} if workers is None else {"workers": workers}))
    printed = format_bench_report({"split": {"path": "x", "shape": "y"}, "rounds": 2, "rows": table,
                                   "index": {"cold_s": 1.0, "cached_s": 0.1},
                                   "rss": {"samples": 1, "workers": 0, "first_mib": [1.0], "last_mib": [1.0]}})
    for name in refs:
        ratio = summary[name]["ratios"][WITHOUT_ACTIVITY]
        assert f"{name}: {ratio:.2f}x the same row without activity" in printed
