"""Two processes (torch.distributed, gloo) decode halves of the chunks in any order; the
collector on rank 0 writes every session exactly once, complete (SPEC §12)."""
import json
import os
import socket

import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

from mcorec_torch import MCoRecDataset, synthetic
from mcorec_torch.hypotheses import HypothesisCollector, collector as collector_module
from mcorec_torch.text.scoring import score_split

pytestmark = pytest.mark.slow  # multi-process: two gloo ranks


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank, root, cache, port, log):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    real = collector_module.write_hypotheses

    def logged(session_dir, *args, **kwargs):
        with open(log, "a") as handle:
            handle.write(f"{rank} {os.path.basename(session_dir)}\n")
        return real(session_dir, *args, **kwargs)

    collector_module.write_hypotheses = logged
    ds = MCoRecDataset(root, normalizer=None, cache_dir=cache)
    labels = {s: json.load(open(os.path.join(root, s, "labels", "speaker_to_cluster.json")))
              for s in os.listdir(root)}
    collector = HypothesisCollector(ds, clusters=labels)
    mine = list(range(rank, len(ds), 2))[::-1] + [0]  # a repeated chunk, as a DDP sampler pads
    for i in mine:
        assert collector.add([ds.segment_id(i)], [ds.text(i)]) == []  # nothing before finish under DDP
    written = collector.finish()
    assert (rank == 0) == bool(written)
    dist.destroy_process_group()


def test_two_ranks_write_each_session_once(tmp_path):
    root = tmp_path / "dev"
    synthetic.make_split(root, "dev", num_sessions=2, seed=7, num_frames=400)
    MCoRecDataset(root, cache_dir=tmp_path / "c")  # index built once, before the workers
    log = tmp_path / "writes.log"
    mp.start_processes(worker, args=(str(root), str(tmp_path / "c"), free_port(), str(log)), nprocs=2,
                       start_method="fork")
    lines = sorted(log.read_text().split("\n")[:-1])
    assert lines == ["0 session_00", "0 session_01"]
    result = score_split(root)
    assert result["average"]["conversation_f1"] == 1.0
    assert all((root / s / "output" / "speaker_to_cluster.json").is_file() for s in ("session_00", "session_01"))
