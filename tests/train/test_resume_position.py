"""Where a checkpoint resumes (``train.resume.resume_position``), also with another number of
processes than it was saved by (issue 21); no training here (tests/train/test_train_avsr.py
runs the trainer on it)."""
from pathlib import Path

import pytest

from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.train.resume import resume_position

CHECKPOINT = Path("runs/x/last.pt")


def saved(world, epoch, consumed):
    """Rank 0's sampler state as the trainer saves it (the parts resume_position reads, and one it keeps)."""
    return {"version": 1, "seed": 0, "num_replicas": world, "epoch": epoch, "batches_consumed": consumed,
            "config": {"max_frames": 300}}


def per_rank(epoch, world):
    """12 batches an epoch: 12, 6, 4 and 3 on each of 1, 2, 3 and 4 processes."""
    return 12 // world


@pytest.mark.parametrize("world, epoch, consumed", [(2, 3, 0), (2, 3, 4), (1, 0, 7), (4, 5, 3)])
def test_the_same_world_size_resumes_where_it_was(world, epoch, consumed):
    state, said = resume_position(CHECKPOINT, saved(world, epoch, consumed), world, False, per_rank)
    assert state == saved(world, epoch, consumed) and said == ""


def test_an_epoch_boundary_of_2_processes_continues_with_1_and_says_so():
    state, said = resume_position(CHECKPOINT, saved(2, 3, 0), 1, False, per_rank)
    assert (state["num_replicas"], state["epoch"], state["batches_consumed"]) == (1, 3, 0)
    assert state["seed"] == 0 and state["config"] == {"max_frames": 300}  # the rest is the sampler's to check
    assert said == "saved by 2 process(es), continuing at the start of epoch 3 with 1"


def test_a_complete_epoch_of_2_processes_continues_at_the_next_with_3():
    """Stopped after the last of its 6 batches on each of 2 processes: nothing of epoch 3 is left."""
    state, said = resume_position(CHECKPOINT, saved(2, 3, 6), 3, False, per_rank)
    assert (state["num_replicas"], state["epoch"], state["batches_consumed"]) == (3, 4, 0)
    assert said == "epoch 3 was complete; saved by 2 process(es), continuing at the start of epoch 4 with 3"


def test_mid_epoch_with_another_world_size_is_refused_naming_the_flag():
    with pytest.raises(MCoRecDataError) as info:
        resume_position(CHECKPOINT, saved(2, 3, 4), 1, False, per_rank)
    assert str(info.value) == (
        f"{CHECKPOINT}: saved by 2 process(es) after batch 4 of epoch 3 on each; this run has 1, which shares the "
        "epoch's batches differently. Pass --next-epoch to continue at the start of epoch 4 with 1 process(es) "
        "(the rest of epoch 3 is skipped), or run with 2 process(es) to continue exactly")


def test_next_epoch_skips_the_rest_of_the_epoch_with_any_world_size():
    state, said = resume_position(CHECKPOINT, saved(2, 3, 4), 1, True, per_rank)
    assert (state["num_replicas"], state["epoch"], state["batches_consumed"]) == (1, 4, 0)
    assert said == ("skipped the rest of epoch 3 (saved after its batch 4 on each process); saved by 2 process(es), "
                    "continuing at the start of epoch 4 with 1")
    state, said = resume_position(CHECKPOINT, saved(1, 3, 4), 1, True, per_rank)
    assert (state["epoch"], state["batches_consumed"]) == (4, 0) and said.startswith("skipped the rest of epoch 3")
    state, said = resume_position(CHECKPOINT, saved(1, 3, 0), 1, True, per_rank)  # at a boundary: nothing to skip
    assert (state["epoch"], state["batches_consumed"]) == (3, 0) and said == ""
