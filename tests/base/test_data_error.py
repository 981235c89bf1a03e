"""MCoRecDataError: names file, key or line and segment; survives pickling and torch's
one-message rebuild of a worker's exception (SPEC §10)."""
import pickle

import pytest
from torch.utils.data import DataLoader, Dataset

from mcorec_torch.errors import MCoRecDataError


def test_pickle_keeps_every_field():
    error = MCoRecDataError("/d/s/metadata.json", "expected a number", key="spk_0.central.uem.start",
                            segment="s/spk_0/0000001-0000009")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is MCoRecDataError and str(back) == str(error)
    assert (back.path, back.key, back.line, back.segment, back.message) == (
        error.path, error.key, error.line, error.segment, error.message)


@pytest.mark.parametrize("error", [
    MCoRecDataError("/d/spk_1.vtt", "malformed cue timing", line=12),
    MCoRecDataError("/d/track_00.json", "expected a finite number, got inf", key="frame_end", segment="s/spk_0/x-y"),
    MCoRecDataError("/d/track_00.mp4", "not readable: a: b"),
])
def test_one_message_rebuild_reads_the_fields_back(error):
    """torch calls ``exc_type(text)`` with its report: the traceback's last line is the error."""
    text = ("Caught MCoRecDataError in DataLoader worker process 0.\nOriginal Traceback (most recent call last):\n"
            '  File "x.py", line 1, in <module>\nmcorec_torch.errors.MCoRecDataError: ' + str(error) + "\n")
    rebuilt = MCoRecDataError(text)
    assert str(rebuilt) == text
    assert (rebuilt.path, rebuilt.key, rebuilt.line, rebuilt.segment, rebuilt.message) == (
        error.path, error.key, error.line, error.segment, error.message)


def test_one_message_without_a_file_keeps_the_text():
    rebuilt = MCoRecDataError("something odd")
    assert rebuilt.path is None and rebuilt.message == "something odd" and str(rebuilt) == "something odd"


class _Failing(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise MCoRecDataError("/d/track_03.mp4", "truncated", segment=f"s/spk_0/item{i}")
        return i


def test_a_worker_error_arrives_as_itself(worker_error):
    error = worker_error(DataLoader(_Failing(), batch_size=1, num_workers=2))
    assert type(error) is MCoRecDataError, repr(error)
    assert error.path == "/d/track_03.mp4" and error.segment == "s/spk_0/item2"
    assert "DataLoader worker process" in str(error)
