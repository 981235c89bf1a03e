"""``mcorec_torch.avsr_model``: kept as a name for existing code and the README; the model lives
in :mod:`mcorec_torch.train.model`."""
from .train.model import *  # noqa: F401,F403
from .train.model import __all__  # noqa: F401
