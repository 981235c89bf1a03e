"""``mcorec_torch.tokenizer``: kept as a name for existing code and the README; the code lives in
:mod:`mcorec_torch.text.tokenizer`."""
from .text.tokenizer import *  # noqa: F401,F403
from .text.tokenizer import __all__  # noqa: F401
