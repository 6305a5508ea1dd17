"""Termination signals as exceptions, so that a command's cleanup code runs.

Python turns SIGINT (Ctrl-C) into :class:`KeyboardInterrupt`, so ``finally`` blocks and
context managers run; SIGTERM (``kill``, a service manager stopping the job) and SIGHUP
(the terminal closed) end the process at once by default. Inside
:func:`signals_raise` they raise :class:`Terminated` instead, which ``main`` turns into
exit code 128 + the signal's number, as a shell reports a process killed by it.

It is used around the commands that write files of health data in stages (``dermatrack
export``, ``dermatrack pull dicom``), not for the whole CLI: processes that some
commands start (the photo batch's workers) would otherwise inherit the handler.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: The signals :func:`signals_raise` turns into :class:`Terminated`.
TERMINATING = (signal.SIGTERM, signal.SIGHUP)


class Terminated(BaseException):  # noqa: N818 (named like KeyboardInterrupt)
    """The process was asked to end by ``signum``.

    A :class:`BaseException`, like :class:`KeyboardInterrupt`, so that no
    ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    # Once only: a second signal while the first unwinds would cut the cleanup short.
    # The previous handlers come back when the ``with`` block ends.
    for each in TERMINATING:
        signal.signal(each, signal.SIG_IGN)
    raise Terminated(signum)


@contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` (once); the
    previous handlers are restored afterwards.

    A signal whose handler is not the default (ignored, as under ``nohup``, or an
    embedding program's own) is left as it is, and outside the main thread (where Python
    cannot set handlers) nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {each: signal.getsignal(each) for each in TERMINATING}
    try:
        for each, handler in previous.items():
            if handler == signal.SIG_DFL:
                signal.signal(each, _raise)
        yield
    finally:
        for each, handler in previous.items():
            if handler is not None:
                signal.signal(each, handler)
