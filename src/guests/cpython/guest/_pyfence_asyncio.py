# asyncio's own event loop, fitted to the sandbox: python3's loop class, minus its self-pipe.
#
# The loop wakes itself from other threads and from signal handlers by writing to a socketpair; this
# interpreter has neither sockets nor threads, so there is nobody to wake it but the host, and the
# host's stops (limits, interrupts, an abort) end a wait on their own. Without the self-pipe, the
# loop's selector polls no descriptors: poll() sleeps in the host until the next timer is due
# (src/guests/cpython/imports.ts), without spinning and never past the run's deadline. Everything
# else -- tasks, timers, gather, wait_for, timeouts, TaskGroup, queues, events -- is the stdlib's.
import asyncio
from asyncio import selector_events


def _make_self_pipe(self):
    self._ssock = self._csock = None


def _close_self_pipe(self):
    pass


def _write_to_self(self):
    pass


_loop = selector_events.BaseSelectorEventLoop
_loop._make_self_pipe = _make_self_pipe
_loop._close_self_pipe = _close_self_pipe
_loop._write_to_self = _write_to_self
del _loop
