# The guest's `asyncio`: a small single-threaded event loop in Python. The port's own asyncio is
# driven by JavaScript promises through the `js` module, which reaches nothing in a sandbox. Here
# sleeping blocks in time.sleep (bounded by the run's deadline; virtual in deterministic mode) and
# blocking host calls simply return. Coroutines are generators: an awaitable yields one command
# to the loop: ("sleep", seconds), ("wait", task_or_event) or ("wait_for", task, seconds).
# MicroPython compiles it on first use (src/python/prelude.ts), not at bake time.
def make_asyncio():
    import time

    class CancelledError(BaseException):
        pass

    class InvalidStateError(Exception):
        pass

    def now():
        return time.ticks_ms() / 1000

    class _Sleep:
        def __init__(self, seconds):
            self.seconds = seconds
        def __iter__(self):
            yield ("sleep", self.seconds)

    def sleep(seconds, result=None):
        yield from _Sleep(max(0, seconds))
        return result

    def sleep_ms(ms, result=None):
        yield from _Sleep(max(0, ms) / 1000)
        return result

    class Task:
        def __init__(self, coro, loop, name=None):
            if not hasattr(coro, "send"):
                raise TypeError("a coroutine was expected, got %r" % (coro,))
            self.coro = coro
            self.loop = loop
            self.name = name
            self.state = "pending"
            self.value = None
            self.error = None
            self.waiters = []
            self.cancelling = False
            self.send_value = None
            self.throw_value = None
            self.wake_at = None
            loop.ready.append(self)
        def done(self):
            return self.state != "pending"
        def cancelled(self):
            return self.state == "cancelled"
        def result(self):
            if self.state == "pending":
                raise InvalidStateError("result is not set")
            if self.error is not None:
                raise self.error
            return self.value
        def exception(self):
            if self.state == "pending":
                raise InvalidStateError("exception is not set")
            return self.error
        def cancel(self, msg=None):
            if self.done():
                return False
            self.cancelling = True
            self.throw_value = CancelledError(msg) if msg else CancelledError()
            self.loop.wake(self)
            return True
        def get_name(self):
            return self.name
        def __iter__(self):
            if not self.done():
                yield ("wait", self)
            return self.result()
        def __repr__(self):
            return "<Task %s %s>" % (self.name or hex(id(self)), self.state)

    class Event:
        def __init__(self):
            self.flag = False
            self.waiters = []
        def is_set(self):
            return self.flag
        def set(self):
            self.flag = True
            waiters, self.waiters = self.waiters, []
            for t in waiters:
                RUNNING[0].wake(t)
        def clear(self):
            self.flag = False
        def wait(self):
            if not self.flag:
                yield ("wait", self)
            return True

    class Lock:
        def __init__(self):
            self.held = False
            self.released = Event()
        def locked(self):
            return self.held
        def acquire(self):
            while self.held:
                self.released.clear()
                yield from self.released.wait()
            self.held = True
            return True
        def release(self):
            if not self.held:
                raise RuntimeError("Lock is not acquired")
            self.held = False
            self.released.set()
        def __aenter__(self):
            return (yield from self.acquire())
        def __aexit__(self, *exc):
            self.release()
            return False
            yield  # a generator, so that it can be awaited

    class QueueEmpty(Exception):
        pass

    class Queue:
        def __init__(self, maxsize=0):
            self.items = []
            self.maxsize = maxsize
            self.changed = Event()
        def qsize(self):
            return len(self.items)
        def empty(self):
            return not self.items
        def full(self):
            return 0 < self.maxsize <= len(self.items)
        def put_nowait(self, item):
            self.items.append(item)
            self.changed.set()
        def get_nowait(self):
            if not self.items:
                raise QueueEmpty()
            item = self.items.pop(0)
            self.changed.set()
            return item
        def put(self, item):
            while self.full():
                self.changed.clear()
                yield from self.changed.wait()
            self.put_nowait(item)
        def get(self):
            while not self.items:
                self.changed.clear()
                yield from self.changed.wait()
            return self.get_nowait()

    RUNNING = [None]  # the loop running now (a list: closures cannot rebind an outer name here)

    class Loop:
        def __init__(self):
            self.ready = []
            self.sleeping = []
            self.current = None
            self.closed = False
        def create_task(self, coro, name=None):
            return Task(coro, self, name)
        def wake(self, task):
            if task in self.sleeping:
                self.sleeping.remove(task)
            if task not in self.ready and not task.done():
                self.ready.append(task)
        def finish(self, task, state, value=None, error=None):
            task.state, task.value, task.error = state, value, error
            waiters, task.waiters = task.waiters, []
            for t in waiters:
                self.wake(t)
        def step(self, task):
            self.current = task
            send, throw = task.send_value, task.throw_value
            task.send_value = task.throw_value = None
            try:
                cmd = task.coro.throw(throw) if throw is not None else task.coro.send(send)
            except StopIteration as e:
                self.finish(task, "done", e.value if e.args else None)
                return
            except CancelledError as e:
                self.finish(task, "cancelled", error=e)
                return
            except BaseException as e:
                if isinstance(e, (KeyboardInterrupt, SystemExit)):
                    raise
                self.finish(task, "done", error=e)
                return
            finally:
                self.current = None
            if type(cmd) is not tuple or not cmd:
                task.throw_value = RuntimeError("await of something that is not awaitable: %r" % (cmd,))
                self.ready.append(task)
            elif cmd[0] == "sleep":
                task.wake_at = now() + cmd[1]
                self.sleeping.append(task)
            elif cmd[0] == "wait":
                cmd[1].waiters.append(task)
            elif cmd[0] == "wait_for":
                cmd[1].waiters.append(task)
                task.wake_at = now() + cmd[2]
                self.sleeping.append(task)
        def run_until_complete(self, main):
            if not isinstance(main, Task):
                main = self.create_task(main)
            previous, RUNNING[0] = RUNNING[0], self
            try:
                while not main.done():
                    if self.ready:
                        self.step(self.ready.pop(0))
                        continue
                    if not self.sleeping:
                        raise RuntimeError("the event loop is stuck: every task is waiting and nothing can wake them")
                    first = min(self.sleeping, key=lambda t: t.wake_at)
                    delay = first.wake_at - now()
                    if delay > 0:
                        time.sleep(delay)
                    t = now()
                    for task in [x for x in self.sleeping if x.wake_at <= t]:
                        self.wake(task)
            finally:
                RUNNING[0] = previous
            return main.result()
        def run_forever(self):
            raise RuntimeError("run_forever is not supported in this sandbox; use run_until_complete")
        def close(self):
            self.closed = True
        def is_running(self):
            return RUNNING[0] is self

    def get_running_loop():
        if RUNNING[0] is None:
            raise RuntimeError("no running event loop")
        return RUNNING[0]

    _default = [None]
    def get_event_loop():
        if RUNNING[0] is not None:
            return RUNNING[0]
        if _default[0] is None:
            _default[0] = Loop()
        return _default[0]

    def new_event_loop():
        return Loop()

    def run(main, debug=False):
        if RUNNING[0] is not None:
            raise RuntimeError("asyncio.run() cannot be called from a running event loop")
        return Loop().run_until_complete(main)

    def create_task(coro, name=None):
        return get_running_loop().create_task(coro, name)

    def _awaiting(aw):
        return (yield from aw)

    def ensure_future(aw):
        if isinstance(aw, Task):
            return aw
        return create_task(aw if hasattr(aw, "send") else _awaiting(aw))

    def current_task():
        return get_running_loop().current

    def gather(*aws, return_exceptions=False):
        tasks = [ensure_future(a) for a in aws]
        results = []
        for t in tasks:
            try:
                results.append((yield from t))
            except BaseException as e:
                if not return_exceptions or isinstance(e, (KeyboardInterrupt, SystemExit)):
                    for other in tasks:
                        other.cancel()
                    raise
                results.append(e)
        return results

    def wait_for(aw, timeout):
        task = ensure_future(aw)
        if timeout is None:
            return (yield from task)
        if not task.done():
            yield ("wait_for", task, max(0, timeout))
        if not task.done():
            task.cancel()
            raise TimeoutError("timed out after %s s" % timeout)
        return task.result()

    def wait_for_ms(aw, timeout):
        return (yield from wait_for(aw, timeout / 1000))

    def shield(aw):
        return (yield from ensure_future(aw))

    class asyncio:
        __name__ = "asyncio"
        def __repr__(self):
            return "<module 'asyncio' (pyfence)>"
    module = asyncio()
    for name, value in (
        ("run", run), ("sleep", sleep), ("sleep_ms", sleep_ms), ("create_task", create_task),
        ("ensure_future", ensure_future), ("gather", gather), ("wait_for", wait_for),
        ("wait_for_ms", wait_for_ms), ("shield", shield), ("current_task", current_task),
        ("get_event_loop", get_event_loop), ("get_running_loop", get_running_loop),
        ("new_event_loop", new_event_loop), ("Task", Task), ("Event", Event), ("Lock", Lock),
        ("Queue", Queue), ("QueueEmpty", QueueEmpty), ("Loop", Loop), ("CancelledError", CancelledError),
        ("TimeoutError", TimeoutError), ("InvalidStateError", InvalidStateError),
    ):
        setattr(module, name, value)
    module.running = lambda: RUNNING[0] is not None
    return module
