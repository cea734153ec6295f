"""Nets that follow a position encoder (the "NN" in NN(PE(x))): ffn, fcnet, siren, linear.

They know nothing about geography: each takes ``in_dim`` and its own keyword parameters and exposes
``out_dim``. Build one with :func:`get_net`; importing this package registers all of them.
"""

from geoenc.nets.registry import Net, get_net, get_net_class, list_nets, net_names, register, resolve_net_params

from geoenc.nets import ffn, fcnet, siren, linear  # noqa: E402,F401  (registration order)

__all__ = ["Net", "get_net", "get_net_class", "list_nets", "net_names", "register", "resolve_net_params"]
