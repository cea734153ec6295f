"""File-to-file pipelines: read points (or a raster) → compute → write, in bounded memory.

This is the one layer that joins :mod:`geoenc.io` with the models, metrics and maps; the command line
(:mod:`geoenc.cli`) and the Python API (:mod:`geoenc.api`) both call these functions.

- :func:`~geoenc.workflows.encode.encode_file` — embeddings of points (``geoenc encode``)
- :func:`~geoenc.workflows.predict.predict_file`, :func:`~geoenc.workflows.predict.evaluate_file`
- :func:`~geoenc.workflows.geobias.geobias_files` — geo-bias reports (``geoenc geobias``)
- :func:`~geoenc.workflows.map.map_model`, :func:`~geoenc.workflows.map.map_encoder`,
  :func:`~geoenc.workflows.map.map_reconstruction_error` — rasters (``geoenc map``)
- :func:`~geoenc.workflows.patches.write_patches` — image chips (``geoenc patches``)
- :func:`~geoenc.workflows.benchmark.run_benchmark` — ``geoenc benchmark``
"""
