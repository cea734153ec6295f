"""Position encoders: ``(N, 2)`` lon/lat degrees → ``(N, D)`` features, in pure torch.

Importing this package registers every encoder; use :func:`get_encoder` and :func:`list_encoders`.
"""

from geoenc.encoders.base import PositionEncoder
from geoenc.encoders.registry import (
    EncoderInfo,
    encoder_names,
    get_encoder,
    get_encoder_class,
    list_encoders,
    register,
    resolve_params,
)

# Each module below registers its encoders on import; the order here is the order of `geoenc methods`:
# tile, wrap, wrap_ffn, rbf, rff, grid, theory, xyz, nerf, sphereC, sphereC+, sphereM, sphereM+, dfs, sh, geoclip.
from geoenc.encoders import tile  # noqa: F401,E402
from geoenc.encoders import wrap  # noqa: F401,E402
from geoenc.encoders import kernel  # noqa: F401,E402
from geoenc.encoders import rff  # noqa: F401,E402
from geoenc.encoders import space2vec  # noqa: F401,E402
from geoenc.encoders import cartesian  # noqa: F401,E402
from geoenc.encoders import sphere2vec  # noqa: F401,E402
from geoenc.encoders import harmonics  # noqa: F401,E402
from geoenc.encoders import geoclip  # noqa: F401,E402

__all__ = [
    "EncoderInfo",
    "PositionEncoder",
    "encoder_names",
    "get_encoder",
    "get_encoder_class",
    "list_encoders",
    "register",
    "resolve_params",
]
