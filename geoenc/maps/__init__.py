"""Grids, rasters and pictures of points (no torch, no typer)."""
