"""Metrics: classification and regression scores, and geo-bias scores (SSI, Gi*, Moran's I) on arrays."""
