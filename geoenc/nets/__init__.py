"""Nets that follow a position encoder (the "NN" in NN(PE(x))): ffn, fcnet, siren, linear, geoclip_mlp.

They know nothing about geography: each takes ``in_dim`` and its own keyword parameters and exposes
``out_dim``. Build one with :func:`get_net`; importing this package registers all of them.
"""

import importlib

from geoenc.nets.registry import Net, get_net, get_net_class, list_nets, net_names, register, resolve_net_params

#: each module registers its net on import; this order is the order of the registry
NET_MODULES = ("ffn", "fcnet", "siren", "linear", "geoclip_mlp")
for _module in NET_MODULES:
    importlib.import_module(f"geoenc.nets.{_module}")

__all__ = ["Net", "get_net", "get_net_class", "list_nets", "net_names", "register", "resolve_net_params"]
