"""The step contract and the machinery that drives steps: stats, lineage, the local executor, recipes.

Every data step has one shape -- records in, records out, rejected records with reasons, stats -- so the
CLI, ``forge run recipe.yaml`` and the Python API all drive the same :class:`~.step.Step` objects.
"""

from .step import BatchResult, Reject, Step, StepConfig, cfg_field

__all__ = ["BatchResult", "Reject", "Step", "StepConfig", "cfg_field"]
