"""The benchmark: encoders and baselines trained and scored alike (LocBench-style table)."""

from geoenc.benchmark.runner import BenchmarkConfig, resolve_baselines, resolve_methods, run_benchmark

__all__ = ["BenchmarkConfig", "resolve_baselines", "resolve_methods", "run_benchmark"]
