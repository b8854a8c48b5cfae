"""MiniLM in a process of its own, at a lower CPU priority than the proxy.

Why: in the proxy's process, the encoder's Python glue holds the GIL between torch kernels and its kernels take both
cores, so every exchange analysed slowed the forwarding of the others. In a child process it shares no GIL with the
event loop, and at ``nice`` 10 the kernel gives the forwarding the CPU first whenever both want it; analysis takes
what is left (and sheds to the rules when it falls behind, as before).

The parent keeps the cheap parts (heads, rules, thresholds); the child only turns texts into window features. The
protocol is length-prefixed pickles over the child's stdin/stdout, between this process and the child it started
(nothing else can write to those pipes). The child exits when its stdin closes (the proxy stopped or died). A child
that dies is started again by the first call ``RESTART_INTERVAL_S`` after it was found gone; until then calls raise at
once, and the analysis actor counts the failure and falls back to the rules.
"""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Sequence
from typing import IO, Any

RESTART_INTERVAL_S = 30.0
REPLY_TIMEOUT_S = 120.0  # a child that has not answered by then is taken for hung: it is killed (then restarted)
HEADER = 8


class EmbeddingProcessError(RuntimeError):
    """The child failed, died or answered with an error."""


def _send(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=5)
    stream.write(len(data).to_bytes(HEADER, "little") + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(HEADER)
    if len(header) < HEADER:
        raise EOFError("the other side closed the pipe")
    size = int.from_bytes(header, "little")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other side closed the pipe mid-message")
    return pickle.loads(data)  # written by our own parent or child process, never by a client


def _readable(stream: IO[bytes], timeout_s: float) -> bool:
    poller = select.poll()
    poller.register(stream.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(int(timeout_s * 1000)))


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            if process.stdin:
                process.stdin.close()  # the child's read ends: it exits
            process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait(timeout=5)


class ProcessEmbedder:
    """``MiniLMEmbedder``'s interface (``dimension``, ``embed_windows``, ``load_seconds``), computed in a child."""

    def __init__(
        self, *, nice: int = 10, threads: int = 2, precision: str = "fp32", second_opinion: str = "none"
    ) -> None:
        self.precision = precision
        self.second_opinion = second_opinion
        self._nice = nice
        self._threads = threads
        self._lock = threading.Lock()  # one request at a time on the pipe
        self._process: subprocess.Popen[bytes] | None = None
        self._down_since: float | None = None  # when a call first found the child gone
        started = time.perf_counter()
        self._start()
        self.load_seconds = time.perf_counter() - started

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "adapters.ml.embedding_process",
                str(self._nice),
                str(self._threads),
                self.precision,
                self.second_opinion,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        weakref.finalize(self, _stop, process)
        assert process.stdout is not None
        try:
            hello = _receive(process.stdout)  # the child loads the model and answers once it is warm
        except EOFError as exc:
            _stop(process)
            raise EmbeddingProcessError(f"the embedding process exited while loading (code {process.poll()})") from exc
        if "error" in hello:
            _stop(process)
            raise EmbeddingProcessError(f"the embedding process could not load the model: {hello['error']}")
        self.dimension = int(hello["dimension"])
        self._process = process

    def embed_windows(
        self, texts: Sequence[str], batch_size: int = 8, layers: Sequence[int] = (6,), attention: Any = None
    ) -> list[Any]:
        return self._locked((list(texts), batch_size, tuple(layers), attention))

    def second_opinion_scores(self, texts: Sequence[str]) -> list[float]:
        """NanoGuard's injection probability per text, computed in the child (started with a second opinion)."""
        if self.second_opinion == "none":
            raise EmbeddingProcessError("the embedding process was started without a second opinion")
        return [float(s) for s in self._locked(("second_opinion", list(texts)))]

    def _locked(self, message: tuple[Any, ...]) -> list[Any]:
        if not self._lock.acquire(timeout=REPLY_TIMEOUT_S):
            raise EmbeddingProcessError("the embedding process is busy with a call that has not returned")
        try:
            return self._call(message)
        finally:
            self._lock.release()

    def _call(self, message: tuple[Any, ...]) -> list[Any]:
        """One request and its answer (the caller holds ``self._lock``)."""
        if self._process is None or self._process.poll() is not None:
            # The first call to find the child gone fails at once (the rules take that batch) rather than wait for a
            # start of several seconds; a start is tried once the child has been gone RESTART_INTERVAL_S.
            now = time.monotonic()
            if self._down_since is None:
                self._down_since = now
            if now - self._down_since < RESTART_INTERVAL_S:
                raise EmbeddingProcessError("the embedding process is down; next restart attempt pending")
            self._down_since = now  # a start that fails waits a whole interval again
            self._start()
            self._down_since = None
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        try:
            _send(process.stdin, message)
            if not _readable(process.stdout, REPLY_TIMEOUT_S):
                raise OSError(f"no answer in {REPLY_TIMEOUT_S:g}s: taken for hung and stopped")
            reply = _receive(process.stdout)
        except (OSError, EOFError) as exc:
            _stop(process)
            self._process = None
            self._down_since = time.monotonic()
            raise EmbeddingProcessError(f"the embedding process died: {exc}") from exc
        if isinstance(reply, dict):
            raise EmbeddingProcessError(reply.get("error", "unknown error"))
        return list(reply)

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                _stop(self._process)
                self._process = None


def main(argv: list[str]) -> int:
    """The child: load the model, say so, then answer requests until stdin closes."""
    nice, threads = int(argv[0]), int(argv[1])
    precision, second_opinion = (argv[2], argv[3]) if len(argv) > 3 else ("fp32", "none")
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the protocol
    try:
        os.nice(nice)  # before torch starts its threads: they inherit it
    except OSError:
        pass
    try:
        from adapters.ml.embedder import MiniLMEmbedder

        embedder = MiniLMEmbedder(threads=threads, precision=precision, second_opinion=second_opinion)
        embedder.embed_windows(["warm-up"], layers=(4, 6))  # first inference allocates
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which runs the rules only
        _send(replies, {"error": f"{type(exc).__name__}: {exc}"})
        return 1
    _send(replies, {"dimension": embedder.dimension, "load_seconds": embedder.load_seconds})
    while True:
        try:
            message = _receive(requests)
        except EOFError:
            return 0
        try:
            result: Any = (
                embedder.second_opinion_scores(message[1])
                if message[0] == "second_opinion"
                else embedder.embed_windows(message[0], batch_size=message[1], layers=message[2], attention=message[3])
            )
        except Exception as exc:  # noqa: BLE001 - one bad batch must not end the process
            result = {"error": f"{type(exc).__name__}: {exc}"}
        _send(replies, result)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
