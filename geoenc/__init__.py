"""geoenc: location encoders, location models and geo-bias scores for geographic points.

The Python API::

    import geoenc
    geoenc.list_encoders()                          # what is registered
    enc = geoenc.get_encoder("sphereM", frequency_num=32)
    emb = geoenc.encode(lonlat, "sphereM")          # (N, 2) degrees → (N, D) numpy
    model = geoenc.load_model("model/")             # a directory from `geoenc train` / `geoenc pretrain`
    probs = model.predict(lonlat)                   # class probabilities or values
"""

from geoenc._version import __version__
from geoenc.encoders import get_encoder, list_encoders
from geoenc.encoding import encode, encode_file
from geoenc.models import load_model

__all__ = ["__version__", "encode", "encode_file", "get_encoder", "list_encoders", "load_model"]
