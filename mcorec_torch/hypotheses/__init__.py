"""The challenge's output side (SPEC §12): hypothesis files in the official layout
(:func:`write_hypotheses`), a collector that writes them from decoded batches on one or many
DDP ranks (:class:`HypothesisCollector`), and a baseline conversation clustering from the
active-speaker scores (:mod:`.clustering`)."""
from .clustering import activity_timelines, cluster_session, cluster_speakers, conversation_statistics
from .collector import HypothesisCollector, mirror_session
from .writer import Hypothesis, WrittenSession, write_hypotheses

__all__ = ["write_hypotheses", "WrittenSession", "Hypothesis", "HypothesisCollector", "mirror_session",
           "activity_timelines", "conversation_statistics", "cluster_speakers", "cluster_session"]
