"""MCoRecDataModule: a new order every epoch (sampler and transforms get set_epoch), a resumed
fit continues with the uninterrupted batches, and DDP keeps its sampler."""
import pytest

L = pytest.importorskip("lightning")
import torch  # noqa: E402

from mcorec_torch.config import build_sampler, parse_config  # noqa: E402
from mcorec_torch.lightning import EpochBatchSampler, MCoRecDataModule  # noqa: E402


def _config(root, cache):
    return parse_config({
        "data": {"cache_dir": str(cache)},
        "dataset": {"color": "gray", "max_duration": 4.0},
        "splits": {"train": {"roots": [str(root)], "shuffle": True,
                             "transforms": [{"name": "noise", "snr_db": [10.0, 30.0], "p": 1.0}]}},
        "sampler": {"max_frames": 150, "max_batch_size": 4, "seed": 3},
        "loader": {"num_workers": 0},
    })


class Recorder(L.LightningModule):
    """Records every batch's ids and the first audio sample (which the noise transform changes)."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.seen = []

    def training_step(self, batch, batch_idx):
        self.seen.append((self.current_epoch, tuple(batch["id"]), round(float(batch["audio"][0, 100]), 6)))
        return (self.weight * batch["audio"].mean()).sum() + self.weight.square().sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


def _trainer(tmp_path, enable_checkpointing=False, **kwargs):
    return L.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=enable_checkpointing,
                     enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path), **kwargs)


@pytest.fixture(scope="module")
def config(dev_split, tmp_path_factory):
    return _config(dev_split[0], tmp_path_factory.mktemp("lcache"))


@pytest.mark.slow  # training: Lightning fits
def test_two_epochs_differ_and_a_resumed_fit_gives_the_uninterrupted_order(config, tmp_path):
    full = Recorder()
    _trainer(tmp_path / "a", max_epochs=2).fit(full, datamodule=MCoRecDataModule(config, val_split=None))
    epochs = [[s for s in full.seen if s[0] == e] for e in (0, 1)]
    assert len(epochs[0]) == len(epochs[1]) > 3
    ids = [[s[1] for s in epoch] for epoch in epochs]
    assert ids[0] != ids[1]                                   # the batch sampler got set_epoch(1)
    assert sorted(sum(map(list, ids[0]), [])) == sorted(sum(map(list, ids[1]), []))

    stop = len(epochs[0]) + 2  # a checkpoint in the middle of epoch 1, as a job killed after it would leave
    saver = L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=stop, save_top_k=-1,
                                                filename="step{step}")
    first = Recorder()
    _trainer(tmp_path / "b", max_epochs=2, enable_checkpointing=True, callbacks=[saver]).fit(
        first, datamodule=MCoRecDataModule(config, val_split=None))
    assert first.seen == full.seen
    ckpt = next((tmp_path / "ckpt").glob(f"*{stop}*.ckpt"))
    resumed = Recorder()
    _trainer(tmp_path / "c", max_epochs=2).fit(resumed, datamodule=MCoRecDataModule(config, val_split=None),
                                               ckpt_path=str(ckpt))
    assert resumed.seen == full.seen[stop:]


def test_transforms_get_the_epoch(config):
    dm = MCoRecDataModule(config, val_split=None)
    dm.setup("fit")
    loader = dm.train_dataloader()
    sampler = loader.sampler
    sampler.set_epoch(4)
    assert sampler.batches.epoch == 4 and loader.dataset.dataset.transform.epoch == 4


def test_ddp_keeps_the_bucket_sampler(config):
    from lightning.pytorch.trainer.states import RunningStage

    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False)
    assert trainer._accelerator_connector.use_distributed_sampler and trainer._accelerator_connector.is_distributed
    dm = MCoRecDataModule(config, val_split=None)
    dm.setup("fit")
    loader = dm.train_dataloader()
    assert isinstance(loader.sampler, EpochBatchSampler)
    assert trainer._data_connector._prepare_dataloader(loader, shuffle=True, mode=RunningStage.TRAINING) is loader
    # ranks of a 2-process run get disjoint halves of the same epoch's batches
    halves = []
    for rank in (0, 1):
        bucket = build_sampler(config, "train", dm.datasets["train"], num_replicas=2, rank=rank)
        halves.append({i for b in EpochBatchSampler(bucket, dm.datasets["train"]) for i in b})
    assert halves[0] and halves[1] and len(halves[0] & halves[1]) <= 4  # padding batches may repeat


def _stub_trainer(world_size, global_rank, processed=0):
    """What the data module reads of an attached ``Trainer``: its world and the fit loop's
    processed batches of the current epoch."""
    from types import SimpleNamespace

    current = SimpleNamespace(processed=processed)
    loop = SimpleNamespace(epoch_loop=SimpleNamespace(batch_progress=SimpleNamespace(current=current)))
    return SimpleNamespace(world_size=world_size, global_rank=global_rank, fit_loop=loop)


def test_the_attached_trainer_sets_the_ranks_batches(config):
    batches = []
    for rank in (0, 1):
        dm = MCoRecDataModule(config, val_split=None)
        dm.trainer = _stub_trainer(2, rank)  # what Trainer.fit attaches (LightningDataModule.trainer)
        dm.setup("fit")
        sampler = dm.train_dataloader().sampler
        assert (sampler.num_replicas, sampler.rank) == (2, rank)
        assert (sampler.batches.num_replicas, sampler.batches.rank) == (2, rank)
        batches.append({i for b in sampler for i in b})
    assert batches[0] and batches[1] and len(batches[0] & batches[1]) <= 4  # padding batches may repeat
    single = MCoRecDataModule(config, val_split=None)
    single.setup("fit")
    everything = {i for b in single.train_dataloader().sampler for i in b}
    assert batches[0] != everything and batches[0] | batches[1] == everything


def test_state_dict_records_the_trainers_processed_batches(config):
    dm = MCoRecDataModule(config, val_split=None)
    dm.setup("fit")
    dm.train_dataloader()
    assert dm.trainer is None and dm.state_dict()["train"]["batches_consumed"] == 0  # no trainer: the sampler's position
    dm.trainer = _stub_trainer(1, 0, processed=3)
    assert dm.state_dict()["train"]["batches_consumed"] == 3
