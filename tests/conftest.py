"""Shared test set-up: headless plotting, fixed time zone and locale."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("TZ", "UTC")
os.environ.setdefault("MPLBACKEND", "Agg")
