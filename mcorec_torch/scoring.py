"""``mcorec_torch.scoring``: kept as a name for existing code and the README; the code lives in
:mod:`mcorec_torch.text.scoring`."""
from .text.scoring import *  # noqa: F401,F403
from .text.scoring import __all__  # noqa: F401
