# asyncio's own event loop, fitted to the sandbox: python3's loop class, minus its self-pipe.
#
# The loop wakes itself from other threads and from signal handlers by writing to a socketpair; this
# interpreter has neither sockets nor threads, so there is nobody to wake it but the host, and the
# host's stops (limits, interrupts, an abort) end a wait on their own. Without the self-pipe, the
# loop's selector polls no descriptors: poll() sleeps in the host until the next timer is due
# (src/guests/cpython/imports.ts), without spinning and never past the run's deadline. Everything
# else -- tasks, timers, gather, wait_for, timeouts, TaskGroup, queues, events -- is the stdlib's.
#
# asyncio is not in the template (it is 2.4 MiB of every session's memory): the loop class is fitted
# when a program first imports asyncio, by a finder that wraps the loader of its selector_events.
import sys

FITTED_MODULE = "asyncio.selector_events"


def _make_self_pipe(self):
    self._ssock = self._csock = None


def _close_self_pipe(self):
    pass


def _write_to_self(self):
    pass


def fit(selector_events):
    loop = selector_events.BaseSelectorEventLoop
    loop._make_self_pipe = _make_self_pipe
    loop._close_self_pipe = _close_self_pipe
    loop._write_to_self = _write_to_self


class FittingLoader:
    """The stdlib's loader of asyncio.selector_events, which fits the loop once the module ran."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        fit(module)

    def __getattr__(self, name):
        return getattr(self.loader, name)


class FitOnImport:
    """On sys.meta_path, before the stdlib's finders: finds asyncio.selector_events through them."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != FITTED_MODULE:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is cls or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                spec.loader = FittingLoader(spec.loader)
                return spec
        return None


if FITTED_MODULE in sys.modules:
    fit(sys.modules[FITTED_MODULE])
else:
    sys.meta_path.insert(0, FitOnImport)
