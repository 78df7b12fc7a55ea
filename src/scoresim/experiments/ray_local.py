"""Starting or joining Ray: the one place that does it (sweeps, ``compare --executor ray``,
``run --partitions``).

A local instance listens on the loopback interface only (node IP 127.0.0.1, no dashboard): a
simulator on one machine has no reason to accept connections from others. A driver killed
with ``kill -9`` takes Ray's head processes with it but leaves some of its agents running; so
each local start records the processes it started (pid and start time) under the user's
temporary folder, and every start first ends the processes recorded by drivers that are no
longer alive.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path

import psutil

LOOPBACK = "127.0.0.1"
# Ray binds its servers to the loopback interface only when its node IP is the loopback
# address, and it keeps that address only when "clusters" are off (ray_constants)
_CLUSTER_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def records_dir() -> Path:
    """Where local drivers record the Ray processes they started (one JSON file each)."""
    return Path(tempfile.gettempdir()) / f"scoresim-{os.getuid()}" / "ray"


def _identity(p: psutil.Process) -> list[float]:
    return [p.pid, p.create_time()]


def remember_processes() -> Path:
    """Record this driver and every process below it (Ray's head processes, agents and
    workers) so that a later start can end them if this driver is killed."""
    me = psutil.Process()
    procs = []
    for p in me.children(recursive=True):
        with suppress(psutil.Error):
            procs.append(_identity(p))
    folder = records_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{me.pid}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"driver": _identity(me), "processes": procs}))
    os.replace(tmp, path)
    return path


def forget_processes() -> None:
    """Drop this driver's record (its Ray instance was shut down cleanly)."""
    (records_dir() / f"{os.getpid()}.json").unlink(missing_ok=True)


def _running(pid: int, created: float) -> psutil.Process | None:
    """The process with this pid and start time, if it still runs (a reused pid is not it)."""
    try:
        p = psutil.Process(int(pid))
        return p if abs(p.create_time() - created) < 0.01 else None
    except psutil.Error:
        return None


def end_left_behind(timeout: float = 5.0) -> int:
    """End the Ray processes recorded by drivers that are no longer alive (terminate, then
    kill what is left after ``timeout`` seconds); returns how many were ended."""
    folder = records_dir()
    if not folder.is_dir():
        return 0
    doomed = []
    for record in folder.glob("*.json"):
        try:
            data = json.loads(record.read_text())
            driver, procs = data["driver"], data["processes"]
        except (OSError, ValueError, KeyError, TypeError):
            record.unlink(missing_ok=True)
            continue
        if _running(*driver) is not None:
            continue  # a driver still at work
        doomed += [p for p in (_running(*x) for x in procs) if p is not None]
        record.unlink(missing_ok=True)
    for p in doomed:
        with suppress(psutil.Error):
            p.terminate()
    _, alive = psutil.wait_procs(doomed, timeout=timeout)
    for p in alive:
        with suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=timeout)
    return len(doomed)


@contextmanager
def _loopback() -> Iterator[None]:
    """Ray keeps a loopback node IP (and binds its servers to it) only while its "cluster"
    setting is off: off for the processes a start spawns (environment) and for this one
    (its constants, read when Ray was imported); restored afterwards."""
    from ray._private import ray_constants

    before = os.environ.get(_CLUSTER_ENV), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[_CLUSTER_ENV] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        if before[0] is None:
            os.environ.pop(_CLUSTER_ENV, None)
        else:
            os.environ[_CLUSTER_ENV] = before[0]
        ray_constants.ENABLE_RAY_CLUSTER = before[1]


def _is_loopback(address: str) -> bool:
    host = address.removeprefix("ray://").rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


def ray_init(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Join the Ray cluster at ``address``, or start a new local instance with ``num_cpus``
    CPUs (default: this process's cores) when it is None: loopback only, quiet, no dashboard,
    no usage statistics. Processes left by killed local drivers are ended first. Returns True
    if this call connected (so the caller shuts it down, see :func:`ray_shutdown`), False if
    Ray was already initialised in this process (the caller's own instance is used)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # scoresim sends nothing anywhere
    if address is not None:
        _use_token_if_any()
    import ray

    if ray.is_initialized():
        return False
    end_left_behind()
    quiet = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                 configure_logging=True)
    if address is None:  # "local": a new instance even if another one runs on this machine
        with _loopback():
            ray.init(address="local", num_cpus=num_cpus or len(psutil.Process().cpu_affinity()),
                     _node_ip_address=LOOPBACK, **quiet)
        remember_processes()
        return True
    try:
        with _loopback() if _is_loopback(address) else nullcontext():
            ray.init(address=address, **quiet)
    except ConnectionError as exc:
        hint = ("; if the cluster uses token authentication (new clusters of recent Ray "
                "versions do), give its token in RAY_AUTH_TOKEN or ~/.ray/auth_token "
                "(`ray get-auth-token` on the head prints it)")
        raise ConnectionError(f"{exc}{hint}") from None
    return True


def ray_shutdown() -> None:
    """Shut down this process's Ray connection (and its local instance, if it started one)."""
    import ray

    ray.shutdown()
    forget_processes()


def _use_token_if_any() -> None:
    """Send Ray's authentication token when this machine has one, as ``ray start`` does:
    clusters of recent Ray versions require it (one that does not simply ignores it)."""
    if "RAY_AUTH_MODE" in os.environ:
        return  # the user's choice
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.expanduser("~/.ray/auth_token")
    if os.environ.get("RAY_AUTH_TOKEN") or os.path.isfile(path):
        os.environ["RAY_AUTH_MODE"] = "token"
        if "ray" in sys.modules:  # Ray caches its configuration when imported
            try:
                from ray._raylet import Config

                Config.initialize("")
            except (ImportError, AttributeError):  # pragma: no cover - another Ray version
                pass
