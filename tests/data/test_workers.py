"""Errors and skips of DataLoader workers reach the main process (SPEC §4, §10)."""
import multiprocessing
import shutil

import pytest
from torch.utils.data import DataLoader

from mcorec_torch import MCoRecDataError, MCoRecDataset, collate


@pytest.fixture(scope="module")
def broken(dev_split, tmp_path_factory):
    """A dataset over a copy of the dev split whose first segment's face track is truncated
    after the index was built; returns (dataset kwargs, truncated path, items that use it)."""
    root, _ = dev_split
    copy = tmp_path_factory.mktemp("workers") / "dev"
    shutil.copytree(root, copy)
    kwargs = dict(crops="face", color="gray", cache_dir=copy.parent / "cache")
    ds = {name: MCoRecDataset(copy, on_error="skip" if "skip" in name else "raise", **kwargs)
          for name in ("raise", "skip", "skip_spawn")}
    index = ds["raise"].index
    path = index.tracks[index.pieces(ds["raise"].index_row(0))[0][0]].path
    users = [i for i in range(len(ds["raise"]))
             if any(index.tracks[p[0]].path == path for p in index.pieces(ds["raise"].index_row(i)))]
    with open(path, "r+b") as handle:
        handle.truncate(2000)
    return ds, path, users


def test_worker_error_is_mcorec_data_error_naming_segment_and_file(broken, worker_error):
    datasets, path, users = broken
    ds = datasets["raise"]
    loader = DataLoader(ds, batch_size=1, num_workers=2, collate_fn=collate, sampler=[users[0]])
    error = worker_error(loader)
    assert type(error) is MCoRecDataError, repr(error)
    assert error.path == path and error.segment == ds.segment_id(users[0])
    assert ds.segment_id(users[0]) in str(error) and path in str(error)


def test_in_process_error_names_the_segment(broken):
    datasets, path, users = broken
    ds = datasets["raise"]
    with pytest.raises(MCoRecDataError) as info:
        ds[users[0]]
    assert info.value.segment == ds.segment_id(users[0]) and info.value.path == path


def test_skips_in_workers_are_counted_in_the_main_process(broken):
    datasets, path, users = broken
    ds = datasets["skip"]
    loader = DataLoader(ds, batch_size=4, num_workers=2, collate_fn=collate, persistent_workers=True)
    seen = sum(len(b["id"]) + b["num_skipped"] for b in loader)
    assert seen == len(ds)
    assert ds.report().total()["skipped"] == len(users)
    list(loader)  # a second epoch with the same (persistent) workers
    assert ds.report().total()["skipped"] == 2 * len(users)
    spk = ds.index.speakers[int(ds.index.speaker[ds.index_row(users[0])])]
    session = ds.index.sessions[spk.session]
    assert ds.report().by_speaker()[(session.split, session.name, spk.name)]["skipped"] >= 2


@pytest.mark.slow  # multi-process: spawned workers
def test_skips_in_spawned_workers_are_counted(broken):
    datasets, path, users = broken
    ds = datasets["skip_spawn"]
    loader = DataLoader(ds, batch_size=2, num_workers=1, collate_fn=collate, sampler=users[:2] + [users[0]],
                        multiprocessing_context=multiprocessing.get_context("spawn"))
    assert sum(b["num_skipped"] for b in loader) == 3
    assert ds.report().total()["skipped"] == 3
