"""Data steps: one module (or package) per step. Each is a :class:`~dialog_forge.pipeline.step.Step`."""
