"""Two gloo processes, spawned here, share an epoch through BucketBatchSampler (SPEC §5)."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow  # multi-process: two gloo ranks


RANK_SCRIPT = textwrap.dedent("""
    import json, os, sys
    import torch
    import torch.distributed as dist
    from torch.utils.data import DataLoader
    from mcorec_torch import BucketBatchSampler, MCoRecDataset, collate

    root, cache, out, init = sys.argv[1:5]
    dist.init_process_group("gloo", init_method=init, rank=int(os.environ["RANK"]),
                            world_size=int(os.environ["WORLD_SIZE"]))
    dataset = MCoRecDataset(root, color="gray", cache_dir=cache)
    sampler = BucketBatchSampler(dataset.lengths, max_frames=120, drop_last=True, seed=4)
    sampler.set_epoch(1)
    loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=collate, num_workers=1)
    ids = [batch["id"] for batch in loader]
    count = torch.tensor([len(ids)])
    dist.all_reduce(count)  # the collective works, and every rank took part
    with open(out, "w") as handle:
        json.dump({"rank": dist.get_rank(), "world": sampler.num_replicas, "ids": ids,
                   "total": int(count), "segments": len(dataset)}, handle)
    dist.destroy_process_group()
""")


def test_two_gloo_ranks_see_disjoint_batches_of_equal_count(dev_split, tmp_path):
    root, _ = dev_split
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    cache = tmp_path / "cache"
    # the index is built once here so both ranks read the same cached index
    from mcorec_torch import MCoRecDataset
    segments = len(MCoRecDataset(root, color="gray", cache_dir=cache))
    init = f"file://{tmp_path / 'rendezvous'}"
    procs = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE="2")
        procs.append(subprocess.Popen([sys.executable, str(script), str(root), str(cache),
                                       str(tmp_path / f"rank{rank}.json"), init], env=env))
    try:
        codes = [p.wait(timeout=240) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert codes == [0, 0]
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r["world"] for r in results] == [2, 2]  # num_replicas came from torch.distributed
    batches = [r["ids"] for r in results]
    assert len(batches[0]) == len(batches[1]) > 0
    assert results[0]["total"] == results[1]["total"] == 2 * len(batches[0])
    seen = [set(i for b in rank for i in b) for rank in batches]
    assert not seen[0] & seen[1]
    flat = [i for rank in batches for b in rank for i in b]
    assert len(flat) == len(set(flat))
    assert results[0]["segments"] == segments
    assert len(flat) > segments // 2  # drop_last drops at most one batch of the global list
