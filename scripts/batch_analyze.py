#!/usr/bin/env python3
"""Analyse every video in a folder: ``python scripts/batch_analyze.py FOLDER [-o OUT] [options]``.

The same as ``sprint-analyzer batch FOLDER``; run with ``--help`` for every option.
Writes one report per video into OUT/<video name>/ and OUT/index.html (default OUT: reports/).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from analyzer.cli import run  # noqa: E402

if __name__ == "__main__":
    run(["batch", *sys.argv[1:]])
