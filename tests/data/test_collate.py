"""SPEC §5 batches."""
import pytest
import torch

from mcorec_torch import Collator, collate


def sample(t, tokens=None, fill=1, sid="s/spk_0/0000000-0000001"):
    s = {"video": torch.full((t, 1, 4, 4), fill, dtype=torch.uint8), "video_mask": torch.ones(t, dtype=torch.bool),
         "audio": torch.full((640 * t,), 0.5), "text": f"T{t}", "id": sid, "session": "s", "speaker": "spk_0",
         "conversation": 1, "start": 0.0, "end": t / 25, "frame_start": 0, "frame_end": t}
    if tokens is not None:
        s["tokens"] = torch.tensor(tokens, dtype=torch.long)
    return s


def test_pads_video_audio_tokens_and_drops_none():
    a, b = sample(3, [5, 6], fill=7), sample(5, [1, 2, 3, 4], fill=9)
    a["video_mask"][1] = False
    batch = collate([a, None, b])
    assert batch["num_skipped"] == 1
    assert batch["video"].shape == (2, 5, 1, 4, 4) and batch["video"].dtype == torch.uint8
    assert batch["video_lengths"].tolist() == [3, 5]
    assert batch["video_mask"].tolist() == [[True, False, True, False, False], [True] * 5]
    assert batch["video"][0, 3:].sum() == 0 and batch["video"][0, :3].float().mean() == 7
    assert batch["audio"].shape == (2, 3200) and batch["audio_lengths"].tolist() == [1920, 3200]
    assert batch["audio"][0, 1920:].abs().sum() == 0 and batch["audio"][0, :1920].mean() == 0.5
    assert batch["tokens"].tolist() == [[5, 6, -1, -1], [1, 2, 3, 4]]
    assert batch["token_lengths"].tolist() == [2, 4]
    assert batch["text"] == ["T3", "T5"] and batch["conversation"] == [1, 1]


def test_pad_to_multiple_of_and_no_tokens():
    batch = Collator(pad_to_multiple_of=4)([sample(5), sample(2)])
    assert batch["video"].shape[1] == 8 and batch["audio"].shape[1] == 8 * 640
    assert batch["video_mask"][0].tolist() == [True] * 5 + [False] * 3
    assert "tokens" not in batch


@pytest.mark.parametrize("key, value", [("tokens", torch.tensor([1, 2])), ("track", "session_00/spk_0/0")])
def test_samples_that_differ_in_a_key_are_refused_naming_it(key, value):
    """Before, a key only the first sample held was a KeyError, and one only later samples held
    (tokens, track) was silently left out of the batch."""
    plain, extra = sample(3, sid="s/spk_0/0000000-0000003"), {**sample(4, sid="s/spk_1/0000010-0000014"), key: value}
    for samples in ([plain, extra], [extra, plain]):
        with pytest.raises(ValueError, match=f"differ in '{key}': .*0000014 holds it, .*0000003 does not"):
            collate(samples)
    text_less = {k: v for k, v in plain.items() if k != "text"}  # an unlabeled chunk beside a cue
    with pytest.raises(ValueError, match="differ in 'text'"):
        collate([plain, text_less])


def test_all_skipped_gives_empty_batch():
    batch = collate([None, None])
    assert batch["num_skipped"] == 2 and batch["video"].shape[0] == 0 and batch["id"] == []


def test_collate_in_a_worker_writes_the_batch_into_shared_memory(monkeypatch):
    """Inside a DataLoader worker the batch is built in shared memory (no copy on the way to the
    main process), with the same values as outside."""
    import importlib

    import torch

    collate_module = importlib.import_module("mcorec_torch.data.collate")  # the module, not the function

    samples = [{"video": torch.randint(0, 255, (t, 1, 4, 4), dtype=torch.uint8), "video_mask": torch.ones(t, dtype=torch.bool),
                "audio": torch.rand(640 * t), "text": "a", "id": str(t), "session": "s", "speaker": "spk_0",
                "conversation": 0, "tokens": torch.arange(t)} for t in (3, 5)]
    plain = collate_module.collate(samples)
    assert not plain["video"].is_shared()
    monkeypatch.setattr(collate_module, "get_worker_info", lambda: object())
    shared = collate_module.collate(samples)
    for key in ("video", "video_mask", "audio", "tokens"):
        assert shared[key].is_shared(), key
        assert torch.equal(shared[key], plain[key]), key
    assert shared["video"][0, 3:].eq(0).all() and shared["audio"][0, 3 * 640:].eq(0).all()
    assert shared["tokens"][0, 3:].eq(-1).all()
