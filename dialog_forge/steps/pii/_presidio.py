"""Import Presidio without the heavy optional parts it loads eagerly.

``presidio_analyzer`` imports ``transformers.pipeline`` at import time (for its transformers NLP engine,
which forge does not use), its device detector imports torch to look for CUDA, and spaCy's ``thinc``
imports torch when it is installed. Together that is several seconds per process -- for every
``forge clean`` call and every ``--workers`` process -- for nothing: forge's recognizers are regexes.

:func:`import_presidio` hides ``transformers`` (and, unless ``keep_torch``, ``torch``) while Presidio is
imported, when they are not loaded yet; Presidio and thinc then treat them as absent. They import normally
afterwards. :mod:`.ner` passes ``keep_torch=True`` so spaCy transformer pipelines keep working.
"""

from __future__ import annotations

import os
import sys


def import_presidio(keep_torch: bool = False) -> None:
    """Import ``presidio_analyzer`` once, with ``transformers``/``torch`` hidden if not loaded yet."""
    if "presidio_analyzer" in sys.modules:
        return
    hidden = [m for m in ("transformers",) + (() if keep_torch else ("torch",)) if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment] - makes `import m` raise ImportError
    old_device = os.environ.get("PRESIDIO_DEVICE")
    os.environ["PRESIDIO_DEVICE"] = old_device or "cpu"  # skip Presidio's CUDA probe
    try:
        import presidio_analyzer  # noqa: F401
    finally:
        for m in hidden:
            if m in sys.modules and sys.modules[m] is None:
                del sys.modules[m]
        if old_device is None:
            del os.environ["PRESIDIO_DEVICE"]
