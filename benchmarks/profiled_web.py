"""`python -m benchmarks.profiled_web <stats file> <uvicorn options...>`: uvicorn under
cProfile, for `benefits bench claims --profile` (benchmarks/common.py's `spawn_web`).

Not `python -m cProfile -m uvicorn`: uvicorn raises its stop signal again once it has shut
down, and the default SIGTERM ends the process before cProfile writes anything. Here the
signal ends it with SystemExit instead, and the statistics are written on the way out.
Only the main thread is profiled: one uvicorn process runs its event loop, and the app, there.
Its clock is the process's CPU time, not the wall clock: on a loaded machine the wall clock
charges the time spent waiting for a core to whatever call was running (a socket write that
woke the client, most often).
"""

import cProfile
import signal
import sys
import time

import uvicorn.main


def main() -> None:
    stats_file, *options = sys.argv[1:]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        uvicorn.main.main(options, standalone_mode=False)
    finally:
        profiler.disable()
        profiler.dump_stats(stats_file)


if __name__ == "__main__":
    main()
