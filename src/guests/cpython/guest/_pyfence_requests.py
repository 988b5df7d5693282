# The guest's `requests` for the CPython engine: the module MicroPython sandboxes get
# (src/python/guest/requests.py, loaded as `_pyfence_requests_factory`) over this engine's bridge, as a
# real module with a real `requests.exceptions`. Importable only with a network grant (the runner puts
# it in sys.modules then). Nothing here is a security boundary.
import types

from _pyfence_bridge import call
from _pyfence_requests_factory import make_requests


def _public(obj):
    return {name: getattr(obj, name) for name in dir(obj) if not name.startswith("__")}


_made = make_requests(call)
globals().update(_public(_made))
__version__ = _made.__version__
exceptions = types.ModuleType("requests.exceptions")
exceptions.__dict__.update(_public(_made.exceptions))
utils = exceptions
del _made
