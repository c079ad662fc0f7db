"""Load the real HTTP server (`zhsearch serve`, waitress) with wrk at several concurrency levels."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent / "baselines"))

import common

# wrk Lua: rotate through the request paths; print a JSON summary with percentiles and errors.
LUA = r"""
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "bytes": %%d, "non2xx": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, ' ..
    '"p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d, "mean_us": %%f}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def api_paths(queries: list[dict[str, Any]]) -> list[str]:
    """The `/api/search?…` path of each benchmark query."""
    paths = []
    for q in queries:
        params = {k: v for k, v in q.items() if k != "line"}
        paths.append("/api/search?" + urlencode(params))
    return paths


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _zhsearch() -> list[str]:
    exe = Path(sys.executable).with_name("zhsearch")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "zhsearch.web.cli"]


def _get(url: str, timeout: float = 30.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (the workers of a pre-fork server)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            children = []
        todo.extend(int(c) for c in children)
    return out


def tree_rss(pid: int, key: str = "VmRSS") -> tuple[float, float]:
    """Total RSS of a process and its descendants, and the largest single process's, in MB."""
    sizes = [common.proc_rss_mb(p, key) for p in _tree(pid)]
    return round(sum(sizes), 1), max(sizes, default=0.0)


class RssSampler(threading.Thread):
    """Samples the VmRSS of a process tree every `interval` seconds; keeps the maxima."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.max_mb, self.max_process_mb = pid, interval, 0.0, 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        """Sample until stopped."""
        while not self._halt.is_set():
            total, largest = tree_rss(self.pid)
            self.max_mb = max(self.max_mb, total)
            self.max_process_mb = max(self.max_process_mb, largest)
            self._halt.wait(self.interval)

    def stop(self) -> float:
        """Stop sampling; the largest total RSS seen, in MB."""
        self._halt.set()
        self.join()
        return self.max_mb


def run_wrk(base: str, lua: str, clients: int, seconds: float) -> dict[str, Any]:
    """One wrk run; requests/s, latency percentiles in ms, error counts."""
    threads = min(clients, 2)
    cmd = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "10s"]
    cmd += ["-s", lua, base]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON "))
    raw = json.loads(line[len("WRKJSON ") :])
    errors = sum(raw[k] for k in ("non2xx", "connect", "read", "write", "timeout"))
    secs = raw["duration_us"] / 1e6
    return {
        "clients": clients,
        "wrk_threads": threads,
        "seconds": round(secs, 2),
        "requests": raw["requests"],
        "rps": round(raw["requests"] / secs, 1) if secs else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": errors,
        "error_detail": {k: raw[k] for k in ("non2xx", "connect", "read", "write", "timeout")},
    }


def bench_server(
    index_dir: str,
    queries: list[dict[str, Any]],
    levels: list[int],
    seconds: float,
    env: dict[str, str] | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Start the server on 127.0.0.1, time its start and first query, load it, stop it."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    paths = api_paths(queries)
    given = env or dict(os.environ)
    env = {k: v for k, v in given.items() if not k.startswith("ZHSEARCH_")}
    env.update(common.chosen_settings(given))  # only what `run.py --zh-setting` chose
    cmd = [*_zhsearch(), "--index-dir", index_dir, "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", str(workers)]
    with tempfile.TemporaryDirectory(prefix="zhbench-wrk-") as tmp:
        paths_file = Path(tmp) / "paths.txt"
        paths_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
        lua = Path(tmp) / "rotate.lua"
        lua.write_text(LUA % {"paths": paths_file}, encoding="utf-8")
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed below
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            listening = _wait_listening(port, proc, timeout=60)
            ready_s = time.perf_counter() - started
            t = time.perf_counter()
            status, body = _get(base + paths[0])
            first_ms = (time.perf_counter() - t) * 1000
            first_ok = status == 200 and json.loads(body).get("ok") is True
            if not first_ok:
                raise RuntimeError(f"first query answered {status}: {body[:500]!r}")
            rss_idle = tree_rss(proc.pid)[0]
            sampler = RssSampler(proc.pid)
            sampler.start()
            runs = [run_wrk(base, str(lua), c, seconds) for c in levels]
            rss_max = sampler.stop()
            hwm = tree_rss(proc.pid, "VmHWM")[1]
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
            server_log = (Path(tmp) / "server.log").read_text(errors="replace")[-2000:]
    return {
        "command": " ".join(cmd[1:]),
        "listening": listening,
        "start_to_listen_s": round(ready_s, 3),
        "first_query_ms": round(first_ms, 2),
        "first_query_ok": first_ok,
        "start_to_first_answer_s": round(ready_s + first_ms / 1000, 3),
        "rss_idle_mb": rss_idle,
        "rss_max_mb": max(rss_max, rss_idle),
        "rss_max_process_mb": sampler.max_process_mb,
        "rss_hwm_mb": hwm,  # the largest single process's high-water mark
        "workers": workers,
        "levels": runs,
        "errors": sum(r["errors"] for r in runs),
        "log_tail": server_log if any(r["errors"] for r in runs) or not first_ok else "",
    }


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"server not listening on {port} after {timeout} s")
