"""Quality assurance: ``check`` (every problem of a split in one run, SPEC §10) and the
alignment proofs on synthetic data (``verify``)."""
from .check import CheckResult, Problem, check_split

__all__ = ["CheckResult", "Problem", "check_split"]
