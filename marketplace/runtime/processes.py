"""The platform's own processes (web, worker, scheduler) as children of a command.

Each child runs in a session of its own: a Ctrl-C in the terminal reaches only the
command, which then stops each child once, gracefully (a Dramatiq worker sent two
signals kills itself half-way and can leave a process behind), and finally the whole
session of each child, so that nothing it forked outlives it.
"""

import contextlib
import os
import signal
import subprocess
import sys

GRACE_SECONDS = 15


def spawn(args: list[str], log_path: str | None = None) -> subprocess.Popen:
    """`python <args>` in a session of its own; output to `log_path`, or to ours."""
    # The child has its own copy of the log's descriptor: ours is closed once it is started.
    with open(log_path, "ab") if log_path else contextlib.nullcontext() as output:
        return subprocess.Popen(
            [sys.executable, *args],
            env=dict(os.environ),
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
        )


def _signal_group(child: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


def stop(children: list[subprocess.Popen]) -> None:
    """SIGTERM to each child's session, up to GRACE_SECONDS to finish, then SIGKILL to
    whatever is left of it."""
    for child in children:
        if child.poll() is None:
            _signal_group(child, signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.wait()
        _signal_group(child, signal.SIGKILL)  # stragglers of its session (forked workers)
