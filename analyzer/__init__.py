"""Sprint Analyzer: sprint technique from an ordinary side-view phone video.

The package is laid out in the order data flows through it::

    video -> pose -> signals -> kinematics -> momentum -> steps -> counterbalance -> report

Each stage is one module with a small typed interface (dataclasses of numpy arrays
that carry their time base and units). ``analyzer.pipeline`` is the only module that
chains them; ``analyzer.cli`` and ``scripts/batch_analyze.py`` are thin shells over it.
Conventions (axes, signs, units) are stated once, in ``docs/METHOD.md``.
"""

__version__ = "0.2.3"
