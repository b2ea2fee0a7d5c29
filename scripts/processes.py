"""Stopping processes we started, with everything in their process group.

Servers such as `oxigraph` (a wrapper around the real binary) and uvicorn with worker processes
leave children behind if only the parent is signalled, so every helper that starts one with
`start_new_session=True` stops it here: SIGTERM, then SIGKILL, bounded waits, until the group is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop `proc` and its process group: SIGTERM, wait up to `grace` s, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None and not group_alive(proc.pid):
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while (proc.poll() is None or group_alive(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
    if proc.poll() is None:
        proc.wait(timeout=5)
