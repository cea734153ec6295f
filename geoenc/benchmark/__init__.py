"""The benchmark's pure parts: the kNN / random forest / no-location baselines and the results table and chart.

The runner that trains and scores everything (``geoenc benchmark``) is :mod:`geoenc.workflows.benchmark`.
"""

from geoenc.benchmark.baselines import BASELINES, fit_predict

__all__ = ["BASELINES", "fit_predict"]
