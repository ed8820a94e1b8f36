"""Shared plumbing of the HTTP benchmarks (``availability.py``, ``pickups.py``); not a benchmark.

- a fresh database, created and dropped around the run (``DATABASE_URL`` when set, else the
  embedded server of ``stores.embedded``), like ``stock_sync.py``;
- server processes (``omnistock serve``, a bare aiohttp app) started, pinned to CPUs, waited
  for, and stopped;
- wrk runs driven by a generated Lua script whose ``done()`` prints one JSON line;
- who used the CPU during a run (server, PostgreSQL backends, load generator, the rest), from
  /proc, and the share the hypervisor took for other guests ("stolen", shown when >= 0.5%);
- a summary of a py-spy raw profile (self time by library and function, inclusive time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg

VENV_BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
WRK_MISSING = (
    "wrk is not installed: this benchmark drives the servers from outside their processes "
    "with wrk.\n  Debian/Ubuntu: apt-get update && apt-get install -y wrk\n"
    "  macOS: brew install wrk\n  from source: https://github.com/wg/wrk (make; put wrk on PATH)"
)


# ------------------------------------------------------------------------------- database
def admin_dsn() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from stores.embedded import embedded_admin_dsn

    return embedded_admin_dsn(Path(tempfile.gettempdir()) / "omnistock-bench" / "pg")


@contextlib.asynccontextmanager
async def fresh_database(admin: str, prefix: str) -> AsyncIterator[str]:
    name = f"{prefix}_{os.getpid()}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


# ------------------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        sys.exit(f"error: {WRK_MISSING}")
    return path


def server_env(dsn: str, **settings: str) -> dict[str, str]:
    """This environment without omnistock/Redis settings, plus ``DATABASE_URL`` and ``settings``
    (``read_through="false"`` becomes ``OMNISTOCK_READ_THROUGH=false``)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OMNISTOCK_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env["DATABASE_URL"] = dsn
    env.update({f"OMNISTOCK_{k.upper()}": v for k, v in settings.items()})
    return env


def _pin(cpus: Iterable[int] | None) -> object:
    """A ``preexec_fn`` pinning the child to ``cpus``."""
    if cpus is None:
        return None
    wanted = set(cpus)
    return lambda: os.sched_setaffinity(0, wanted)


def renice(increment: int) -> None:
    """``--nice``: this process and every child it starts (servers, wrk) run at this niceness
    (PostgreSQL's backends do not); on a shared machine, -10 (as root) keeps neighbours from
    preempting the measured processes."""
    if increment:
        os.nice(increment)


@dataclass
class Server:
    name: str
    process: asyncio.subprocess.Process
    url: str
    log: Path


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


@contextlib.asynccontextmanager
async def server(
    name: str,
    argv: list[str],
    *,
    port: int,
    ready_path: str,
    env: Mapping[str, str] | None = None,
    cpus: Iterable[int] | None = None,
    log_dir: Path,
) -> AsyncIterator[Server]:
    """Run ``argv`` (stderr and stdout to ``log_dir/name.log``) until ``ready_path`` answers 200."""
    log = log_dir / f"{name}.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_pin(cpus),  # type: ignore[arg-type]
        )
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(300):
                if process.returncode is not None:
                    raise RuntimeError(f"{name} exited ({process.returncode}): {log.read_text()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with client.get(url + ready_path) as reply:
                        if reply.status == 200:
                            break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"{name} did not become ready: {log.read_text()}")
        yield Server(name, process, url, log)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


def omnistock_argv(port: int) -> list[str]:
    return [str(VENV_BIN / "omnistock"), "serve", "--host", "127.0.0.1", "--port", str(port)]


BARE_APP = """
import sys
from aiohttp import web

ANSWER = {"status": "ok", "service": "baseline", "version": 1}


async def handler(request):
    return web.json_response(ANSWER)


app = web.Application()
app.router.add_get("/", handler)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def bare_app_argv(port: int) -> list[str]:
    """A bare aiohttp app: one handler answering a small constant dict with json_response."""
    return [sys.executable, "-c", BARE_APP, str(port)]


# ------------------------------------------------------------------------------- wrk
_DONE = r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for code, n in pairs(s) do merged[code] = (merged[code] or 0) + n end
    end
  end
  local codes = {}
  for code, n in pairs(merged) do codes[#codes + 1] = string.format('"%d":%d', code, n) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
    '"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout,
    table.concat(codes, ",")))
end
"""
COUNT_STATUSES = """
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
"""


def paced_delay(connections: int, rate: float) -> str:
    """A Lua ``delay()`` so that ``connections`` connections send ``rate`` requests/s in total:
    each waits a random 0.5x..1.5x of ``connections / rate`` after each answer (random, so the
    connections do not fall into lockstep; wrk takes whole milliseconds, hence the rounding)."""
    mean_ms = connections / rate * 1000.0
    return (
        f"local mean_ms = {mean_ms:.6f}\n"
        "function delay()\n"
        "  return math.floor(mean_ms * (0.5 + math.random()) + 0.5)\n"
        "end\n"
    )


@dataclass
class WrkResult:
    label: str
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: int
    statuses: dict[str, int] = field(default_factory=dict)
    target_rate: float | None = None
    cpu: CpuUse | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def row(self) -> str:
        line = (
            f"{self.label:<58} {self.connections:>5} {self.rate:>11,.0f} {self.p50_ms:>8.2f} "
            f"{self.p99_ms:>8.2f} {self.non2xx + self.socket_errors:>7,}"
        )
        if self.cpu is not None:
            line += "\n" + self.cpu.per_request(self.requests)
        return line


HEADER = (
    f"{'scenario':<58} {'conns':>5} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
)


async def run_wrk(
    label: str,
    url: str,
    lua: str,
    *,
    connections: int,
    seconds: float,
    threads: int = 1,
    cpus: Iterable[int] | None = None,
    target_rate: float | None = None,
    timeout_s: float = 5.0,
    work_dir: Path,
    server_pid: int | Sequence[int] | None = None,
    database: str | None = None,
) -> WrkResult:
    """Run wrk with ``lua`` (which must declare the request; ``statuses``, ``tid``, ``counter``
    are per-thread globals it may use) and return its numbers; with ``database``, also who used
    the CPU meanwhile (``server_pid``, that database's PostgreSQL backends, wrk, the rest)."""
    script = work_dir / f"wrk-{time.monotonic_ns()}.lua"
    init = (
        "function init(args)\n  statuses = {}\n  counter = 0\n  math.randomseed(tid * 7919)\nend\n"
    )
    script.write_text(lua + "\n" + init + _DONE)
    argv = [
        require_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        f"--timeout={timeout_s:g}s",
        "-s",
        str(script),
        url,
    ]
    meter = cpu_meter(server_pid, database) if database else contextlib.nullcontext(None)
    async with meter as cpu:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=_pin(cpus),  # type: ignore[arg-type]
        )
        out, err = await process.communicate()
    text = out.decode()
    line = next((x for x in text.splitlines() if x.startswith("WRKJSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{text}\n{err.decode()}")
    data = json.loads(line.removeprefix("WRKJSON "))
    return WrkResult(
        label=label,
        connections=connections,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        non2xx=data["non2xx"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        statuses=data["statuses"],
        target_rate=target_rate,
        cpu=cpu,
    )


def lua_string(text: str) -> str:
    """A Lua long-bracket literal of ``text`` (no escaping needed inside)."""
    level = "=" * 3
    assert f"]{level}]" not in text
    return f"[{level}[{text}]{level}]"


# ------------------------------------------------------------------------------- CPU use
_TICK = os.sysconf("SC_CLK_TCK")


def _proc_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of ``pid`` (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0, 0.0
    return int(fields[11]) / _TICK, int(fields[12]) / _TICK


def _proc_cpu(pid: int) -> float:
    return sum(_proc_times(pid))


def _backends(database: str) -> list[int]:
    """PostgreSQL backends serving ``database`` (their process title names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                title = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
                if title.startswith("postgres: ") and f" {database} " in title:
                    found.append(int(entry.name))
    return found


def machine_times() -> tuple[float, float, float]:
    """(busy, stolen, total) CPU seconds of the whole machine since boot. Stolen: time the
    hypervisor gave this VM's CPUs to someone else while they had work (a busy neighbour):
    not ours, so not counted as busy; when it shows, every CPU figure of the run is slower."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    steal = values[7] if len(values) > 7 else 0
    return (sum(values[:8]) - idle - steal) / _TICK, steal / _TICK, sum(values[:8]) / _TICK


def _children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuUse:
    """CPU seconds used during a run, by whom: the server process, PostgreSQL backends of the
    bench database, the load generator (wrk, or this process), everything else on the machine."""

    server: float = 0.0
    server_sys: float = 0.0  # of which in the kernel (system calls: sockets, wake-ups)
    postgres: float = 0.0
    client: float = 0.0
    other: float = 0.0
    busy_share: float = 0.0  # of the machine's CPU capacity during the run
    steal_share: float = 0.0  # of it taken by the hypervisor for other guests

    has_server: bool = True

    def server_capacity(self, requests: int) -> float:
        """Requests/s the server would serve with a whole core at this CPU cost per request."""
        return requests / self.server if self.server else 0.0

    def per_request(self, requests: int) -> str:
        if not requests:
            return ""
        ms = 1000 / requests
        server = ""
        if self.has_server and self.server:
            server = (
                f"server {self.server * ms:.2f} ms (kernel {self.server_sys * ms:.2f}; 1 core: "
                f"{self.server_capacity(requests):,.0f}/s), "
            )
        return (
            f"  CPU per request: {server}PostgreSQL {self.postgres * ms:.2f} ms, load generator "
            f"{self.client * ms:.2f} ms, other processes {self.other * ms:.2f} ms; machine "
            f"{self.busy_share:.0%} busy"
            + (f", {self.steal_share:.0%} stolen" if self.steal_share >= 0.005 else "")
        )


@contextlib.asynccontextmanager
async def cpu_meter(
    server_pid: int | Sequence[int] | None, database: str, *, client_is_self: bool = False
) -> AsyncIterator[CpuUse]:
    """Measure who used the CPU while the block runs. The load generator is the wrk child
    that ran (and was reaped) inside the block, or this process (``client_is_self``). Several
    server pids (replicas) count as one server."""
    use = CpuUse(has_server=server_pid is not None)
    pids = [server_pid] if isinstance(server_pid, int) else list(server_pid or ())

    def server_times() -> tuple[float, float]:
        times = [_proc_times(p) for p in pids]
        return sum(u for u, _ in times), sum(s for _, s in times)

    server0 = server_times()
    pg0 = {pid: _proc_cpu(pid) for pid in _backends(database)}
    client0 = _self() if client_is_self else _children()
    busy0, steal0, total0 = machine_times()
    try:
        yield use
    finally:
        busy1, steal1, total1 = machine_times()
        use.client = (_self() if client_is_self else _children()) - client0
        if pids:
            user, system = server_times()
            use.server = user + system - sum(server0)
            use.server_sys = system - server0[1]
        use.postgres = sum(_proc_cpu(pid) - pg0.get(pid, 0.0) for pid in _backends(database))
        busy = busy1 - busy0
        use.other = max(0.0, busy - use.server - use.postgres - use.client)
        use.busy_share = busy / (total1 - total0) if total1 > total0 else 0.0
        use.steal_share = (steal1 - steal0) / (total1 - total0) if total1 > total0 else 0.0


def database_name(dsn: str) -> str:
    return urlsplit(dsn).path.lstrip("/")


# ------------------------------------------------------------------------------- profiling
@contextlib.asynccontextmanager
async def pyspy(pid: int, out: Path, seconds: float) -> AsyncIterator[None]:
    """Sample ``pid`` with py-spy (raw collapsed stacks into ``out``) while the block runs.

    Only samples of the thread holding the GIL are kept (``--gil``): time blocked or preempted
    in a system call (``socket.send`` waking PostgreSQL or wrk on a busy 2-core machine) would
    otherwise show as Python time of the caller."""
    exe = shutil.which("py-spy", path=f"{VENV_BIN}:{os.environ.get('PATH', '')}")
    if exe is None:
        sys.exit("error: py-spy is not installed: .venv/bin/pip install py-spy")
    argv = [exe, "record", "-p", str(pid), "-d", f"{seconds:g}", "-r", "200"]
    argv += ["-f", "raw", "-o", str(out), "--gil"]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        yield
    finally:
        await process.wait()


_KINDS = (
    ("asyncpg/", "asyncpg driver"),
    ("asyncio/", "asyncio loop + sockets"),
    ("selectors", "asyncio loop + sockets"),
    ("aiohttp/", "aiohttp HTTP"),
    ("multidict", "aiohttp HTTP"),
    ("yarl/", "aiohttp HTTP"),
    ("pydantic", "pydantic"),
    ("json/", "json"),
    ("logging/", "logging"),
    ("service/observability", "logging"),
    ("prometheus_client/", "prometheus metrics"),
    ("aiocache/", "aiocache"),
    ("hashlib", "hashing"),
    ("service/", "omnistock code"),
    ("stores/", "omnistock code"),
)


def profile_summary(path: Path, top: int = 10) -> str:
    """A py-spy raw profile in three views, in % of the samples taken while the server held the
    GIL (idle and system-call time are not sampled): self time by library, the top functions by
    self time, and omnistock's own functions by inclusive time."""
    own: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";")]
        total += n
        own[frames[-1]] += n
        kinds[next((k for m, k in _KINDS if m in frames[-1]), "other")] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return "(no samples)"
    lines = [
        f"{total:,} samples; self time by library: "
        + ", ".join(f"{k} {n / total:.0%}" for k, n in kinds.most_common()),
        "top functions, self time:",
    ]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in own.most_common(top)]
    lines.append("omnistock functions, inclusive time:")
    picked = [
        (f, n)
        for f, n in inclusive.most_common()
        if ("service/" in f or "stores/" in f) and "service/cli/" not in f
    ]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in picked[:top]]
    return "\n".join(lines)


def _short(frame: str) -> str:
    """'func (/long/path/site-packages/pkg/mod.py:12)' -> 'func (pkg/mod.py)'."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", f"{ROOT}/", "python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})"
