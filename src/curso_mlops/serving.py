"""Serve an HTTP API on loopback from a notebook, load it, and always stop it.

Themes 05 and 15 run a real server and call it over HTTP. The plumbing lives here so the
notebooks show the API and the measurements, not thread and process bookkeeping. Every
server binds to a loopback address only, every load run is bounded in requests and time,
and every server is stopped when its ``with`` block ends, even when a cell inside it fails.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import httpx
import numpy as np

__all__ = ["ServingError", "LoadResult", "free_port", "serve_app", "serve_process", "run_load"]

#: upper bounds of one load run, whatever the caller asks for
MAX_REQUESTS = 20_000
MAX_SECONDS = 60.0


class ServingError(RuntimeError):
    """A server that would not start or a load run that cannot be done; says what to fix."""


def _check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ServingError(
            f"El servidor solo puede escuchar en una dirección local (loopback); recibido "
            f"{host!r}. Usa '127.0.0.1': el curso no envía tráfico fuera de esta máquina.")


def _check_url(url: str) -> None:
    if not isinstance(url, str) or not url.startswith("http://"):
        raise ServingError(f"La URL debe empezar por 'http://'; recibido {url!r}.")
    _check_loopback(httpx.URL(url).host)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host`` (the OS picks it)."""
    _check_loopback(host)
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(app: Any, *, host: str = "127.0.0.1", port: int | None = None,
              timeout: float = 10.0, ssl_certfile: str | os.PathLike | None = None,
              ssl_keyfile: str | os.PathLike | None = None) -> Iterator[str]:
    """Run an ASGI app (a FastAPI object) with uvicorn in a thread of this kernel.

    Yields the base URL (``http://127.0.0.1:PORT``, or ``https://`` when given a certificate
    and its key, for TLS in transit); the server stops when the block ends.
    """
    import uvicorn

    _check_loopback(host)
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise ServingError("Para servir por HTTPS hacen falta los dos ficheros: `ssl_certfile` "
                           "(el certificado) y `ssl_keyfile` (su clave privada).")
    for path in (ssl_certfile, ssl_keyfile):
        if path is not None and not os.path.isfile(path):
            raise ServingError(f"No encuentro el fichero {path}: genera antes el certificado.")
    port = free_port(host) if port is None else port
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="error",
                                           access_log=False, lifespan="on",
                                           ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile))
    # uvicorn installs signal handlers only in the main thread; in a thread it must not try
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout)
            raise ServingError(
                f"El servidor no arrancó en {host}:{port} en {timeout:.0f} s. Comprueba que "
                "`app` es una aplicación FastAPI y que el puerto no está ocupado.")
        time.sleep(0.02)
    scheme = "https" if ssl_certfile is not None else "http"
    try:
        yield f"{scheme}://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


@contextlib.contextmanager
def serve_process(target: str, *, workers: int = 1, factory: bool = False,
                  app_dir: str | os.PathLike | None = None, env: dict[str, str] | None = None,
                  host: str = "127.0.0.1", health_path: str = "/health",
                  timeout: float = 60.0) -> Iterator[str]:
    """Run ``uvicorn TARGET --workers N`` in a child process group; yield its base URL.

    ``target`` is uvicorn's ``module:attribute``; with ``factory=True`` the attribute is a
    function that builds the app. Waits until ``health_path`` answers 200. On exit the whole
    process group (uvicorn and its workers) gets SIGTERM, then SIGKILL if it lingers.
    """
    if not isinstance(target, str) or ":" not in target:
        raise ServingError(f"`target` debe tener la forma 'modulo:objeto' (como en uvicorn); "
                           f"recibido {target!r}.")
    if not isinstance(workers, int) or not 1 <= workers <= 16:
        raise ServingError(f"`workers` debe ser un entero entre 1 y 16; recibido {workers!r}.")
    _check_loopback(host)
    port = free_port(host)
    command = [sys.executable, "-m", "curso_mlops.serving", target, "--host", host, "--port", str(port),
               "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    if factory:
        command.append("--factory")
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    child_env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, env=child_env, stdin=subprocess.DEVNULL,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{host}:{port}"
    try:
        _wait_healthy(process, url + health_path, timeout, log)
        yield url
    finally:
        _stop_group(process)
        log.close()


def _wait_healthy(process: subprocess.Popen, url: str, timeout: float, log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    log.seek(0)
    tail = log.read().decode(errors="replace")[-1500:]
    state = (f"terminó con código {process.returncode}" if process.poll() is not None
             else f"no respondió 200 en {url} en {timeout:.0f} s")
    raise ServingError(f"El servidor {state}. Últimas líneas de su salida:\n{tail}")


def _stop_group(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured: one latency per answered request, in seconds."""

    concurrency: int
    latencies: np.ndarray
    errors: int
    elapsed: float

    @property
    def throughput(self) -> float:
        """Answered requests per second over the whole run."""
        return len(self.latencies) / self.elapsed if self.elapsed > 0 else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile ``q`` (0-100) in milliseconds; NaN when nothing was answered."""
        if len(self.latencies) == 0:
            return float("nan")
        return float(np.percentile(self.latencies, q) * 1000)


def run_load(url: str, payloads: Sequence[Any], *, concurrency: int, requests: int,
             time_limit: float = 10.0, method: str = "POST") -> LoadResult:
    """Send ``requests`` requests to ``url`` from ``concurrency`` clients at once (closed loop).

    Each client sends its next request as soon as the previous one is answered, cycling
    through ``payloads`` (JSON bodies). The run stops at ``requests`` or ``time_limit``
    seconds, whichever comes first; both are capped (``MAX_REQUESTS``, ``MAX_SECONDS``).
    """
    _check_url(url)
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 256:
        raise ServingError(f"`concurrency` debe ser un entero entre 1 y 256; recibido "
                           f"{concurrency!r}.")
    if not isinstance(requests, int) or not 1 <= requests <= MAX_REQUESTS:
        raise ServingError(f"`requests` debe ser un entero entre 1 y {MAX_REQUESTS}; recibido "
                           f"{requests!r}.")
    if not payloads:
        raise ServingError("`payloads` está vacío: pasa al menos un cuerpo JSON que enviar.")
    for position, body in enumerate(payloads):
        try:
            json.dumps(body, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ServingError(
                f"El cuerpo {position} de `payloads` no se puede enviar como JSON ({error}). "
                "Quita los NaN y convierte los tipos de numpy a int/float de Python "
                "(por ejemplo con `df.dropna().to_dict('records')`).") from None
    time_limit = min(float(time_limit), MAX_SECONDS)
    lock = threading.Lock()
    counter = iter(range(requests))
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    deadline = start + time_limit

    def client() -> None:
        nonlocal errors
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(timeout=max(time_limit, 1.0), limits=limits) as session:
            while time.perf_counter() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                body = payloads[i % len(payloads)]
                t0 = time.perf_counter()
                try:
                    response = session.request(method, url, json=body)
                    ok = response.status_code < 400
                except httpx.HTTPError:
                    ok = False
                t1 = time.perf_counter()
                with lock:
                    if ok:
                        latencies.append(t1 - t0)
                    else:
                        errors += 1

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(client) for _ in range(concurrency)]:
            future.result()
    return LoadResult(concurrency, np.array(latencies), errors, time.perf_counter() - start)



def _patch_uvicorn_socket() -> None:
    """Make uvicorn create its listening socket as TCP (proto 6), as asyncio expects.

    With ``--workers`` > 1 uvicorn binds the socket itself with ``proto=0``; asyncio then
    skips TCP_NODELAY on accepted connections and every keep-alive request waits ~40 ms for
    a delayed ACK (uvicorn#3149, open when this was written). Recreating the socket from
    its descriptor lets Python read the real protocol.
    """
    import uvicorn.config

    bind_socket = uvicorn.config.Config.bind_socket
    if getattr(bind_socket, "_tcp_patched", False):
        return

    def bind_tcp_socket(self):  # type: ignore[no-untyped-def]
        sock = bind_socket(self)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(fileno=sock.detach())
        return sock

    bind_tcp_socket._tcp_patched = True  # type: ignore[attr-defined]
    uvicorn.config.Config.bind_socket = bind_tcp_socket  # type: ignore[method-assign]


if __name__ == "__main__":
    import uvicorn

    _patch_uvicorn_socket()
    uvicorn.main()
