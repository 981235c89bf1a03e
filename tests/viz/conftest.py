"""Fixtures of the picture tests: a dataset of the dev split sharing one index cache, and reading
a PNG back as pixels."""
import numpy as np
import pytest


@pytest.fixture(scope="module")
def viz_cache(tmp_path_factory):
    """One index cache for a test module (the index is built once)."""
    return tmp_path_factory.mktemp("viz-cache")


@pytest.fixture(scope="module")
def dev_dataset(dev_split, viz_cache):
    from mcorec_torch import MCoRecDataset

    root, specs = dev_split
    return MCoRecDataset(root, cache_dir=viz_cache), specs


def read_png(path) -> np.ndarray:
    """The PNG at ``path`` as uint8 RGB ``[H, W, 3]``."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def rgb(colour: str) -> tuple:
    """``"#rrggbb"`` as an ``(r, g, b)`` tuple of ints."""
    return tuple(int(colour[i: i + 2], 16) for i in (1, 3, 5))


def region_colour(image: np.ndarray, x: float, y: float, radius: int = 2) -> tuple:
    """The most common colour of the ``(2 radius + 1)``-pixel square around column ``x``, row ``y``
    (hatch lines and edges drawn over a bar do not decide it)."""
    x, y = int(x), int(y)
    patch = image[y - radius: y + radius + 1, x - radius: x + radius + 1].reshape(-1, 3)
    colours, counts = np.unique(patch, axis=0, return_counts=True)
    return tuple(int(v) for v in colours[np.argmax(counts)])
