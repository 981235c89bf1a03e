"""The sampler-randomness figures of the Performance guide ("Locality"): what runs of
neighbouring segments change in the batches, on a small corpus of MCoRec's shape."""
import numpy as np

from mcorec_torch.bench.randomness import batch_randomness, main, mcorec_like_corpus


def test_runs_halve_the_speakers_of_a_batch_and_add_padding():
    speaker, start, length = mcorec_like_corpus(seed=1, sessions=10, speakers=6, cues=20)
    assert length.size == 1200 and 25 <= length.min() and length.max() <= 375
    plain, runs = (batch_randomness(speaker, start, length, k, max_frames=3000, max_batch_size=16, epochs=3)
                   for k in (1, 2))
    assert plain.distinct_speakers > 0.9 and runs.distinct_speakers < 0.6
    assert runs.same_speaker_pairs > 4 * plain.same_speaker_pairs
    assert runs.real_frames < plain.real_frames - 0.1 and runs.batches > plain.batches
    assert abs(plain.order_correlation) < 0.2 and abs(runs.order_correlation) < 0.2
    assert 0 < plain.pairs_kept < runs.pairs_kept < 1


def test_figures_by_hand_on_a_tiny_corpus():
    # two speakers, 4 segments each, every segment alone in its batch: no pairs, no padding
    speaker, start, length = np.repeat([0, 1], 4), np.tile([0, 100, 200, 300], 2), np.full(8, 50)
    r = batch_randomness(speaker, start, length, 1, max_frames=50, max_batch_size=1, epochs=2)
    assert (r.batches, r.distinct_speakers, r.same_speaker_pairs, r.pairs_kept, r.real_frames) == (8, 1.0, 0.0, 0.0, 1.0)


def test_main_prints_one_line_per_locality(capsys):
    out = main(["--locality", "1", "3", "--epochs", "2"])
    assert sorted(out) == [1, 3] and out[3]["locality"] == 3
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 4 and printed[-1].split()[0] == "3"
