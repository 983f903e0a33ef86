"""Answer-quality evaluation over golden question sets."""

from assistant.evaluation.golden import ExpectedSource, GoldenItem, load_golden
from assistant.evaluation.runner import ItemResult, evaluate

__all__ = ["ExpectedSource", "GoldenItem", "ItemResult", "evaluate", "load_golden"]
