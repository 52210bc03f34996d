"""Exam-day load benchmark: N workers start the same exam within a minute and autosave.

    .venv/bin/python bench/exam_load.py [--candidates 500] [--ramp-seconds 60] [--think-ms 0]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/exam_load.py

What it does, in order (bench/README.md explains the figures):

1. Builds a fresh database through Certify's own services: on PostgreSQL when DATABASE_URL
   is set (the `public` schema is dropped and created again first, as the test suite does),
   else a SQLite file in a temporary directory. Demo data (the 仓库保管员 bank, 90 questions
   per 五级 paper), one class of N workers enrolled from a roster CSV, an exam session open
   since a minute ago, and one API token per worker.
2. Serves `bench/bare_app.py` (one Flask route, no database) with gunicorn and loads it with
   the same N clients, PUT sequence, think time and connections as the autosave phase: the
   floor to compare with. Its clients start all at once (--bare-ramp-seconds 0), so bare_rps
   is what the endpoint can do, not the rate the one-minute ramp happens to bring in.
3. Serves Certify (`wsgi:app`, CERTIFY_ENV=production) with the same gunicorn settings. Each
   simulated worker waits a random delay in [0, ramp), starts its attempt, saves an answer
   to every question one by one, then submits.
4. Checks in the database that every answer the server acknowledged with 200 is stored
   with the last acknowledged value (`lost_answers`).

Only 127.0.0.1 is contacted. Every request has a timeout, the load phases share one
deadline (--timeout), and the servers are always stopped, also on Ctrl-C. The LAST line on
stdout is one JSON object with the results; nothing is asserted: it is a benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
CORES = os.cpu_count() or 2
REQUEST_TIMEOUT = 30.0  # seconds, for every request the load generator sends
READY_TIMEOUT = 60.0  # seconds for gunicorn to answer its first request
PROGRESS_EVERY = 10.0  # seconds between progress lines on stderr
SHOW_ERRORS = 20  # errors of each phase shown on stderr as they happen
REGIONS = ("330302", "330303", "330304", "330305", "330324", "330326", "330381", "330382")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰"
DEFAULT_THINK_MS = 20_000.0
# Production refuses a loopback BASE_URL. The servers here listen on 127.0.0.1 and no phone
# scans what they issue, so their certificates carry a reserved name (RFC 2606).
BENCH_BASE_URL = "https://certify.bench.example"
BIRTH_DAYS = 9000  # birth dates 1970-01-01 onwards; the ID sequence number counts the wraps


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Phase:
    """What one load phase recorded. Latencies are kept for 200 answers only, in ms."""

    name: str
    clients: int
    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"start": [], "save": [], "submit": [], "list": []}
    )
    errors: Counter = field(default_factory=Counter)
    acked: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    save_requests: int = 0
    first_save: float | None = None  # perf_counter when the first PUT was sent
    last_save: float | None = None  # perf_counter when the last PUT was answered
    started: int = 0
    finished: int = 0
    questions: int = 0
    unfinished: int = 0
    elapsed: float = 0.0
    loop_lag_max: float = 0.0  # seconds the load generator's event loop was late, at most
    began: float = 0.0  # perf_counter when the phase started
    save_sent: list[float] = field(default_factory=list)  # seconds into the phase, per 200 save
    start_sent: list[float] = field(default_factory=list)  # the same for starts

    def fail(self, step: str, what: str) -> None:
        kind = f"{self.name} {step}: {what}"
        self.errors[kind] += 1
        if self.error_count <= SHOW_ERRORS:  # the first few, with when they happened
            moment = time.strftime("%H:%M:%S")
            print(f"  [{self.name}] {moment} error: {kind}", file=sys.stderr, flush=True)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def save_rps(self) -> float | None:
        if self.first_save is None or self.last_save is None or self.last_save <= self.first_save:
            return None
        return len(self.latencies["save"]) / (self.last_save - self.first_save)


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile, in the values' unit, rounded to 0.1."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)


def by_window(latencies: list[float], sent: list[float], pct: float, width: float = 10.0):
    """The percentile of the requests sent in each `width` seconds of the phase, in order."""
    windows: dict[int, list[float]] = {}
    for ms, at in zip(latencies, sent, strict=True):
        windows.setdefault(int(at // width), []).append(ms)
    return [percentile(windows.get(i, []), pct) for i in range(max(windows, default=-1) + 1)]


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def describe(response: httpx.Response) -> str:
    """'HTTP 503 busy' for the app's JSON errors, 'HTTP 502' for anything else."""
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
    return f"HTTP {response.status_code} {code}"


async def timed(phase: Phase, step: str, request: Awaitable[httpx.Response]):
    """Send one request; keep its latency when it got a 200, else count an error."""
    sent = time.perf_counter()
    if step == "save":
        phase.save_requests += 1
        if phase.first_save is None:
            phase.first_save = sent
    try:
        response = await request
    except httpx.HTTPError as exc:
        phase.fail(step, type(exc).__name__)
        return None
    finally:
        if step == "save":
            phase.last_save = time.perf_counter()
    if response.status_code != 200:
        phase.fail(step, describe(response))
        return None
    phase.latencies[step].append((time.perf_counter() - sent) * 1000)
    if step == "save":
        phase.save_sent.append(sent - phase.began)
    elif step == "start":
        phase.start_sent.append(sent - phase.began)
    return response


_SSL: ssl.SSLContext | None = None


def client_for(base_url: str, token: str | None = None) -> httpx.AsyncClient:
    """One simulated worker = one browser: its own keep-alive HTTP/1.1 connection.

    trust_env=False keeps proxy variables from sending anything off this machine; the SSL
    context is never used (plain http) but is shared so each client does not build one.
    """
    global _SSL
    if _SSL is None:
        _SSL = ssl.create_default_context()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=httpx.Timeout(REQUEST_TIMEOUT),
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        verify=_SSL,
        trust_env=False,
    )


def choose(kind: str, options: Sequence[str], rng: random.Random) -> list[str]:
    """A plausible answer: two options for a multiple-choice question, else one."""
    if not options:
        return []
    count = 2 if kind == "multiple" and len(options) >= 2 else 1
    return rng.sample(options, count)


@dataclass(frozen=True)
class Think:
    """The pause before each answer: uniform in mean × [1 − jitter, 1 + jitter], seconds."""

    mean: float = 0.0
    jitter: float = 0.0

    def pause(self, rng: random.Random) -> float:
        if not self.mean:
            return 0.0
        return self.mean * rng.uniform(1 - self.jitter, 1 + self.jitter)


async def sit_exam(
    phase: Phase, base_url: str, session_id: int, token: str, rng: random.Random, think: Think
) -> None:
    """Start (or resume) the attempt, save every answer, submit: the whole exam of one worker."""
    async with client_for(base_url, token) as client:
        response = await timed(
            phase, "start", client.post(f"/api/v1/exams/{session_id}/attempts", json={})
        )
        if response is None:
            return
        paper = response.json()
        attempt_id = paper["attempt_id"]
        # Keep only what answering needs: 500 whole papers are a lot of small objects for
        # the garbage collector to walk while the load generator should be sending.
        questions = [
            (q["id"], q["type"], tuple(o["id"] for o in q["options"])) for q in paper["questions"]
        ]
        del paper, response
        phase.started += 1
        phase.questions = max(phase.questions, len(questions))
        for question_id, kind, options in questions:
            if think.mean:
                await asyncio.sleep(think.pause(rng))
            chosen = choose(kind, options, rng)
            url = f"/api/v1/attempts/{attempt_id}/answers/{question_id}"
            if await timed(phase, "save", client.put(url, json={"answer": chosen})) is not None:
                phase.acked[(attempt_id, question_id)] = tuple(sorted(chosen))
        response = await timed(
            phase, "submit", client.post(f"/api/v1/attempts/{attempt_id}/submit")
        )
        if response is None:
            return
        status = response.json().get("status")
        if status == "submitted":
            phase.finished += 1
        else:
            phase.fail("submit", f"status {status}")


async def look_at_exams(phase: Phase, base_url: str, token: str) -> None:
    """Before the exam opens, the worker's phone shows the exam list (GET /api/v1/exams)."""
    async with client_for(base_url, token) as client:
        phase.started += 1
        if await timed(phase, "list", client.get("/api/v1/exams")) is not None:
            phase.finished += 1


async def answer_bare(
    phase: Phase, base_url: str, questions: int, rng: random.Random, think: Think
) -> None:
    """The same autosave pattern against the bare endpoint: `questions` PUTs in a row."""
    async with client_for(base_url) as client:
        phase.started += 1
        for number in range(questions):
            if think.mean:
                await asyncio.sleep(think.pause(rng))
            body = {"answer": [rng.choice("ABCD")]}
            await timed(phase, "save", client.put(f"/bare/{number}", json=body))
        phase.finished += 1


class GcPauses:
    """The garbage collector's longest pause in the load generator, from gc.callbacks.

    A full collection walks every object the generator keeps (2,000 papers are about a
    million): it stopped the event loop for up to 0.6 s, and every request in flight then
    looked that much slower than the server made it.
    """

    def __init__(self) -> None:
        self.longest = 0.0
        self._began = 0.0

    def __call__(self, stage: str, info: dict) -> None:
        if stage == "start":
            self._began = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self._began)


async def progress(phase: Phase, began: float) -> None:
    """Every PROGRESS_EVERY seconds a line on stderr; meanwhile, how late the event loop is.

    A late loop means the load generator itself was short of CPU: its requests went out
    late and the latencies it measured include that wait. Every second it also moves what
    survived so far out of the collector's reach (gc.freeze), so that full collections stay
    short however many papers the clients hold (and the papers are kept as tuples, which
    the collector stops tracking).
    """
    tick = 0.1
    last_report = last_freeze = time.monotonic()
    while True:
        before = time.monotonic()
        await asyncio.sleep(tick)
        phase.loop_lag_max = max(phase.loop_lag_max, time.monotonic() - before - tick)
        if time.monotonic() - last_freeze >= 1.0:
            gc.freeze()
            last_freeze = time.monotonic()
        if time.monotonic() - last_report < PROGRESS_EVERY:
            continue
        last_report = time.monotonic()
        print(
            f"  [{phase.name}] {time.monotonic() - began:5.0f} s: {phase.started}/"
            f"{phase.clients} started, {len(phase.latencies['save'])} answers saved, "
            f"{phase.finished} done, {phase.error_count} errors",
            file=sys.stderr,
            flush=True,
        )


async def run_phase(
    phase: Phase,
    client: Callable[[int, random.Random], Awaitable[None]],
    ramp: float,
    deadline: float,
    seed: int,
) -> None:
    """Run phase.clients simulated workers, each after a random delay in [0, ramp)."""
    delays = [random.Random(seed * 7919 + i).random() * ramp for i in range(phase.clients)]

    async def one(i: int) -> None:
        await asyncio.sleep(delays[i])
        await client(i, random.Random(seed * 104_729 + i))

    began = time.monotonic()
    phase.began = time.perf_counter()
    tasks = [asyncio.create_task(one(i)) for i in range(phase.clients)]
    reporter = asyncio.create_task(progress(phase, began))
    try:
        done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic()))
    finally:
        reporter.cancel()
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, reporter, return_exceptions=True)
    phase.elapsed = time.monotonic() - began
    phase.unfinished = len(pending)
    if pending:
        phase.errors[f"{phase.name} run: cut off by --timeout"] += len(pending)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            phase.fail("client", f"{type(exc).__name__}: {exc}"[:120])


# --- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool(name: str) -> list[str]:
    """The command of a tool installed beside this Python (the venv's), or `python -m name`."""
    beside = Path(sys.executable).with_name(name)
    return [str(beside)] if beside.exists() else [sys.executable, "-m", name]


def gunicorn_command() -> list[str]:
    command = tool("gunicorn")
    # gunicorn 25.1+ opens a control socket at one fixed path per user: leave that path to
    # whatever other gunicorn runs on this machine.
    from gunicorn import config

    if hasattr(config, "ControlSocketDisable"):
        command.append("--no-control-socket")
    return command


def spawn(command: list[str], env: dict[str, str], log: Path, nice: int) -> subprocess.Popen:
    """Start a server of the benchmark's (gunicorn, the RQ worker) with its output in `log`.

    A process group of its own, so that Ctrl-C reaches the benchmark only (it stops the
    servers in order), but the same session: with the kernel's autogroup scheduling
    (sched_autogroup_enabled) every session is scheduled as one group with an equal share of
    the CPU, whatever its processes' niceness. The servers, the RQ worker and the load
    generator must compete as on one machine's service.
    """
    with log.open("wb") as log_file:
        return subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )


def database_from_env() -> tuple[str, bool]:
    """DATABASE_URL and whether it is PostgreSQL; any other database is refused."""
    url = os.environ.get("DATABASE_URL", "").strip()
    on_postgres = url.startswith(("postgres://", "postgresql"))
    if url and not on_postgres:
        raise SystemExit("DATABASE_URL must be PostgreSQL; leave it unset for a SQLite file.")
    return url, on_postgres


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], args, log: Path, probe: tuple[str, str]):
    """Serve app_spec on 127.0.0.1; yield the base URL once `probe` answers 200; always stop."""
    port = free_port()
    command = [
        *gunicorn_command(),
        "-w",
        str(args.workers),
        "--threads",
        str(args.threads),
        "-k",
        "gthread",
        "-b",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "10",
        *(["--keep-alive", str(args.keep_alive)] if args.keep_alive is not None else []),
        "--pythonpath",
        str(REPO / "bench"),
        app_spec,
    ]
    base_url = f"http://127.0.0.1:{port}"
    process = spawn(command, env, log, args.server_nice)
    try:
        wait_until_ready(process, base_url, probe, log)
        wait_until_booted(process, args.workers)
        yield base_url
    finally:
        stop(process)


def wait_until_ready(process: subprocess.Popen, base_url: str, probe, log: Path) -> None:
    method, path = probe
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx.Client(base_url=base_url, timeout=5, trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                if client.request(method, path, json={"answer": []}).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"gunicorn did not answer {method} {path} at {base_url}:\n{tail}")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of one process from /proc (Linux), or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def wait_until_booted(process: subprocess.Popen, workers: int, timeout: float = 60.0) -> None:
    """Wait until every gunicorn worker has booted and the server is idle.

    The first worker answers /healthz while the others still import the app, which takes a
    few seconds of CPU each: load sent then measures a server that is still starting, not
    one that has been up since before the exam, as on a real exam morning. Off Linux
    (no /proc) this returns at once.
    """
    if not Path(f"/proc/{process.pid}").exists():
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = _children(process.pid)
        before = [_cpu_seconds(p) for p in pids]
        time.sleep(0.5)
        after = [_cpu_seconds(p) for p in pids]
        if None in before or None in after:
            continue
        busy = sum(after) - sum(before)
        if len(pids) >= workers and busy < 0.05:  # under 10 % of a core across the server
            return
    print("  warning: gunicorn did not settle; measuring anyway", file=sys.stderr)


def server_log_problems(log: Path) -> list[str]:
    """gunicorn's warnings, errors and tracebacks (a WORKER TIMEOUT, say), shown on stderr."""
    if not log.exists():
        return []
    marks = ("[WARNING]", "[ERROR]", "[CRITICAL]", "Traceback")
    lines = log.read_text(errors="replace").splitlines()
    problems = [line for line in lines if any(mark in line for mark in marks)]
    for line in problems[:SHOW_ERRORS]:
        print(f"  [{log.stem} log] {line}", file=sys.stderr)
    return problems


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the gunicorn master (graceful), then SIGKILL its process group if need be."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# --- the database ----------------------------------------------------------------------------


@dataclass
class Fixture:
    session_id: int
    tokens: list[str]
    questions_per_paper: int


def reset_postgres(url: str) -> None:
    import sqlalchemy as sa

    from certify.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def roster_csv(count: int, first: int = 0) -> bytes:
    """A roster of `count` distinct workers with valid ID numbers and 138 phone numbers.

    `first` starts the numbering further on, so that two rosters share nobody.
    """
    from certify.core.idcard import make_id_number

    lines = ["姓名,证件号码,手机号码"]
    for i in range(first, first + count):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
        born = date(1970, 1, 1) + timedelta(days=i % BIRTH_DAYS)
        id_number = make_id_number(REGIONS[i % len(REGIONS)], born, i // BIRTH_DAYS)
        lines.append(f"{name},{id_number},138{i:08d}")
    return ("\n".join(lines) + "\n").encode()


def open_class(trade, name: str, roster: bytes, expected: int, minutes: int):
    """A class from `roster`, every row enrolled, and its exam session open since a minute
    ago for three hours. Returns the session and the members' user ids in roster order."""
    import sqlalchemy as sa

    from certify.cohorts.models import Enrolment
    from certify.cohorts.services import CohortData, create_cohort, enrol_roster
    from certify.core import clock
    from certify.exams.services import schedule_session
    from certify.extensions import db

    cohort = create_cohort(trade, CohortData(name, 5, None, "", []))
    db.session.flush()
    report = enrol_roster(cohort, f"{name}.csv", roster)
    if not report.saved or report.enrolled != expected:
        problems = "; ".join(f"row {p.number}: {p.message}" for p in report.problems[:5])
        raise RuntimeError(f"the roster of {name} was not enrolled: {problems}")
    now = clock.now()
    session = schedule_session(
        cohort, now - timedelta(minutes=1), now + timedelta(hours=3), duration_minutes=minutes
    )
    db.session.flush()
    user_ids = db.session.scalars(
        sa.select(Enrolment.user_id).where(Enrolment.cohort_id == cohort.id).order_by(Enrolment.id)
    ).all()
    return session, list(user_ids)


def add_final_passes(session_id: int, user_ids: list[int], rng: random.Random, published) -> None:
    """A final pass per worker, as publish_results(session, 0) and finalize_results leave it,
    without the exams themselves: what a certificate batch issues from."""
    from certify.extensions import db
    from certify.results.models import Result, ResultStatus

    for user_id in user_ids:
        db.session.add(
            Result(
                session_id=session_id,
                user_id=user_id,
                theory_hundredths=rng.randint(60, 100) * 100 + rng.choice((0, 50)),
                practical_hundredths=rng.randint(60, 100) * 100,
                passed=True,
                status=ResultStatus.FINAL,
                published_at=published,
                publicity_ends_at=published,
                finalized_at=published + timedelta(minutes=1),
            )
        )


def prepare(app, candidates: int) -> Fixture:
    """Demo data, a class of `candidates` workers, an open exam session, one token each."""
    import flask_migrate
    import sqlalchemy as sa

    from certify.accounts.models import User
    from certify.accounts.sessions import issue_token
    from certify.banks.models import ExamBlueprint
    from certify.catalog.models import Trade
    from certify.demo.services import load_demo
    from certify.extensions import db

    with app.app_context():
        flask_migrate.upgrade()
        load_demo()
        db.session.commit()
        trade = db.session.scalar(sa.select(Trade).where(Trade.code == "warehouse-keeper"))
        session, user_ids = open_class(trade, "压测班", roster_csv(candidates), candidates, 120)
        enrolments = [db.session.get(User, user_id) for user_id in user_ids]
        tokens = [issue_token(user)[0] for user in enrolments]
        per_paper = db.session.get(ExamBlueprint, session.blueprint_id).question_count
        fixture = Fixture(session.id, tokens, per_paper)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # the servers are the only ones talking to the database now
    return fixture


def check_answers(app, session_id: int, acked: dict[tuple[int, int], list[str]]) -> dict:
    """Compare every acknowledged answer with what the database holds."""
    import sqlalchemy as sa

    from certify.exams.models import Attempt, AttemptAnswer, AttemptItem, AttemptStatus
    from certify.extensions import db

    # Clients know a question by its number on the paper (the API's id), not its bank id.
    stored: dict[tuple[int, int], list[str]] = {}
    with app.app_context():
        attempt_ids = sorted({attempt for attempt, _question in acked})
        for start in range(0, len(attempt_ids), 500):
            rows = db.session.execute(
                sa.select(AttemptAnswer.attempt_id, AttemptItem.position, AttemptAnswer.chosen)
                .join(
                    AttemptItem,
                    sa.and_(
                        AttemptItem.attempt_id == AttemptAnswer.attempt_id,
                        AttemptItem.question_id == AttemptAnswer.question_id,
                    ),
                )
                .where(AttemptAnswer.attempt_id.in_(attempt_ids[start : start + 500]))
            )
            for attempt, question, chosen in rows:
                stored[(attempt, question)] = sorted(chosen)
        statuses = dict(
            db.session.execute(
                sa.select(Attempt.status, sa.func.count())
                .where(Attempt.session_id == session_id)
                .group_by(Attempt.status)
            ).all()
        )
        db.session.remove()
        db.engine.dispose()
    lost = sum(1 for key, chosen in acked.items() if stored.get(key) != list(chosen))
    ended = (AttemptStatus.SUBMITTED, AttemptStatus.GRADED, AttemptStatus.EXPIRED)
    return {
        "lost_answers": lost,
        "answers_in_db": len(stored),
        "attempts_in_db": sum(statuses.values()),
        "attempts_ended_in_db": sum(n for status, n in statuses.items() if status in ended),
    }


# --- the certificate batch that renders meanwhile ---------------------------------------------


class RedisServer:
    """A redis-server of our own on a free port, without persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [shutil.which("redis-server") or "redis-server", "--port", str(self.port)]
        command += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("redis-server did not answer PING")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def prepare_batch(app, count: int, first: int) -> tuple[int, int]:
    """A second class of `count` workers, each with a final pass: what the batch will issue.

    The results are made directly, as bench/certificates.py does: what publish_results and
    finalize_results leave behind, without sitting `count` more exams. Also the signing
    keys. Returns the session's id and an admin's id (the job's starter).
    """
    import sqlalchemy as sa

    from certify.accounts.models import Role, User
    from certify.catalog.models import Trade
    from certify.certificates.signing import init_keys
    from certify.core import clock
    from certify.extensions import db

    with app.app_context():
        trade = db.session.scalar(sa.select(Trade).where(Trade.code == "warehouse-keeper"))
        session, user_ids = open_class(
            trade, "证书批次班", roster_csv(count, first), count, minutes=90
        )
        add_final_passes(session.id, user_ids, random.Random(count), clock.now())
        init_keys()
        admin_id = db.session.scalar(sa.select(User.id).where(User.role == Role.ADMIN).limit(1))
        if admin_id is None:
            raise RuntimeError("the demo data has no admin to start the batch")
        session_id = session.id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return session_id, admin_id


@contextmanager
def render_worker(env: dict[str, str], redis_url: str, nice: int, server_nice: int, log: Path):
    """`flask jobs worker --render-nice NICE` (RQ), as deploy.md runs it; always stopped."""
    from redis import Redis
    from rq import Worker

    name = f"bench-render-{os.getpid()}"
    command = [*tool("flask"), "--app", "wsgi", "jobs", "worker", "--name", name]
    command += ["--render-nice", str(nice)]
    # At the servers' niceness, as on a node where both run at the same priority.
    process = spawn(command, env, log, server_nice)
    try:
        connection = Redis.from_url(redis_url)
        deadline = time.monotonic() + READY_TIMEOUT
        while not any(w.name == name for w in Worker.all(connection=connection)):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the RQ worker did not register:\n{tail}")
            time.sleep(0.2)
        yield process
    finally:
        stop(process)
        with suppress(ProcessLookupError):  # RQ's work horse, if a job was still running
            os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Batch:
    """The issue_certificates job as the page's progress bar sees it."""

    job_id: int | None = None
    size: int = 0
    status: str = "not started"
    done: int = 0
    error: str | None = None
    queued_s: float | None = None  # created → started, from the job row
    run_s: float | None = None  # started → finished
    total_s: float | None = None  # created → finished
    finished_at: datetime | None = None
    finished_during_exam: bool | None = None


def start_batch(app, session_id: int, admin_id: int, batch: Batch) -> None:
    """Start the batch the way the admin's "issue all" button does: a job on the queue."""
    from certify.accounts.models import User
    from certify.extensions import db
    from certify.jobs.services import start_job

    with app.test_request_context():
        admin = db.session.get(User, admin_id)
        job = start_job("issue_certificates", {"session_id": session_id}, admin)
        if not job.rq_job_id:
            raise RuntimeError("the batch ran inline instead of in the RQ worker")
        batch.job_id = job.id
        db.session.remove()


def read_batch(app, batch: Batch) -> None:
    from certify.extensions import db
    from certify.jobs.models import Job

    with app.app_context():
        job = db.session.get(Job, batch.job_id)
        batch.status, batch.done, batch.error = str(job.status), job.done, job.error
        if job.started_at is not None:
            batch.queued_s = (job.started_at - job.created_at).total_seconds()
        if job.finished_at is not None:
            batch.finished_at = job.finished_at
            batch.total_s = (job.finished_at - job.created_at).total_seconds()
            if job.started_at is not None:
                batch.run_s = (job.finished_at - job.started_at).total_seconds()
        db.session.remove()


async def watch_batch(app, batch: Batch, until: float) -> None:
    """Read the job every 2 s, as the page's progress bar does, until it ends or `until`."""
    while batch.status not in ("done", "failed") and time.monotonic() < until:
        await asyncio.to_thread(read_batch, app, batch)
        if batch.status not in ("done", "failed"):
            await asyncio.sleep(2)


# --- the run ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--candidates", type=int, default=500, help="simulated workers (500)")
    parser.add_argument(
        "--ramp-seconds",
        type=float,
        default=60.0,
        help="workers start at random in [0, RAMP) seconds (60: 'within one minute')",
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=DEFAULT_THINK_MS,
        help=f"mean pause before each answer, ms ({DEFAULT_THINK_MS:.0f}: a quick reader; the "
        "120-minute paper allows 80 s a question; 0: a stress test, no pause at all)",
    )
    parser.add_argument(
        "--think-jitter",
        type=float,
        default=0.5,
        help="each pause is uniform in mean x [1 - J, 1 + J] (0.5), so nobody moves in step",
    )
    parser.add_argument(
        "--arrival-seconds",
        type=float,
        default=30.0,
        help="before the exam opens, each worker's phone fetches its exam list at random "
        "within this many seconds, as workers wait on that page on an exam morning (30; 0: no "
        "arrival, the exam starts on a server that has served nothing yet)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=1000,
        help="certificates a background job issues (renders) in an RQ worker during the exam "
        "(1000; 0: none). Needs redis-server: the benchmark starts its own",
    )
    parser.add_argument(
        "--batch-nice",
        type=int,
        default=19,
        help="the RQ worker's --render-nice (19, its default: renders yield the CPU to the exam; "
        "the worker itself, which commits and holds locks, runs at normal priority)",
    )
    parser.add_argument(
        "--batch-wait",
        type=float,
        default=1800.0,
        help="seconds to wait for the batch after the exam phase ends (1800)",
    )
    parser.add_argument(
        "--bare-questions",
        type=int,
        help="PUTs per bare client (default: a paper's count, or 15 with a think time, which "
        "offers the same rate once ramped in a fraction of the time)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * CORES + 1,
        help=f"gunicorn worker processes (2 x cores + 1 = {2 * CORES + 1})",
    )
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (4)")
    parser.add_argument(
        "--keep-alive",
        type=int,
        default=75,
        help="gunicorn --keep-alive seconds (75, nginx's default: a phone keeps its connection "
        "between answers; gunicorn's own 2 s closes it under the client)",
    )
    parser.add_argument(
        "--server-nice",
        type=int,
        default=5,
        help="niceness of the servers, so the load generator on the same cores sends on time (5)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        help="seconds the two load phases may take together before they are cut off "
        "(default: what they need at the slowest pause, plus 10 minutes)",
    )
    parser.add_argument(
        "--bare-ramp-seconds",
        type=float,
        help="ramp of the bare phase (default: the exam's ramp with a think time; without "
        "one 0, all clients at once, so that bare_rps is its capacity)",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        help="keep gunicorn's logs (certify.log, bare.log) here instead of a temporary folder",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed for delays and answers")
    parser.add_argument(
        "--skip-bare", action="store_true", help="do not measure the bare endpoint (no ratios)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.candidates <= 100_000:
        parser.error("--candidates is 1 to 100000")
    if min(args.ramp_seconds, args.bare_ramp_seconds or 0, args.think_ms) < 0 or (
        args.timeout is not None and args.timeout <= 0
    ):
        parser.error("--ramp-seconds, --bare-ramp-seconds and --think-ms must be >= 0")
    if args.arrival_seconds < 0:
        parser.error("--arrival-seconds must be >= 0")
    if not 0 <= args.think_jitter < 1:
        parser.error("--think-jitter is 0 or more and below 1")
    if args.batch < 0 or (args.bare_questions is not None and args.bare_questions < 1):
        parser.error("--batch must be >= 0 and --bare-questions >= 1")
    if args.batch and not shutil.which("redis-server"):
        parser.error("--batch needs redis-server (make setup installs it); or pass --batch 0")
    if args.workers < 1 or args.threads < 1:
        parser.error("--workers and --threads must be >= 1")
    return args


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def summary_lines(phase: Phase, label: str) -> list[str]:
    save = phase.latencies["save"]
    rps = phase.save_rps
    return [
        f"{label}: {len(save)}/{phase.save_requests} PUTs answered 200 in "
        f"{phase.elapsed:.1f} s, {rps or 0:.0f} req/s, p50 {percentile(save, 50)} ms, "
        f"p95 {percentile(save, 95)} ms, p99 {percentile(save, 99)} ms, "
        f"{phase.error_count} errors"
    ]


def run(args: argparse.Namespace) -> dict:
    from certify import create_app
    from certify.config import load_settings

    began = time.monotonic()
    database_url, on_postgres = database_from_env()
    think = Think(args.think_ms / 1000, args.think_jitter)
    redis = RedisServer() if args.batch else None
    # A batch cut off by --batch-wait may still be writing a PDF while the folder goes.
    folder = tempfile.TemporaryDirectory(prefix="certify-bench-", ignore_cleanup_errors=True)
    with folder as tmp, ExitStack() as running:
        tmp_path = Path(tmp)
        if not database_url:
            database_url = f"sqlite:///{tmp_path / 'certify-bench.db'}"
        env = {
            **os.environ,
            "CERTIFY_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
            "BASE_URL": BENCH_BASE_URL,
            "DATABASE_URL": database_url,
            "CERTIFY_INSTANCE_PATH": str(tmp_path / "instance"),
            "CERTIFICATE_DIR": str(tmp_path / "certificates"),  # the demo data issues one
        }
        if redis is not None:
            running.callback(redis.stop)
            redis.start()
            env["REDIS_URL"] = redis.url
        logs = args.log_dir or tmp_path
        logs.mkdir(parents=True, exist_ok=True)
        database = "postgresql" if on_postgres else "sqlite"
        print(
            f"Set-up: {args.candidates} workers on {database}, gunicorn -w {args.workers} "
            f"--threads {args.threads} -k gthread"
            + (f", a batch of {args.batch} certificates" if args.batch else ""),
            file=sys.stderr,
            flush=True,
        )
        if on_postgres:
            reset_postgres(database_url)
        app = create_app(load_settings(env))
        fixture = prepare(app, args.candidates)
        batch = Batch(size=args.batch)
        if args.batch:
            batch_session, admin_id = prepare_batch(app, args.batch, first=args.candidates)
        # Flask, SQLAlchemy and the app stay for the whole run: move them out of the
        # collector's way, or each full collection walks them while requests wait.
        gc.collect()
        gc.freeze()
        gc_pauses = GcPauses()
        gc.callbacks.append(gc_pauses)
        setup_s = time.monotonic() - began
        print(f"Set-up done in {setup_s:.1f} s", file=sys.stderr, flush=True)

        questions = fixture.questions_per_paper or 90
        bare_questions = args.bare_questions or (15 if think.mean else questions)
        bare_ramp = args.bare_ramp_seconds
        if bare_ramp is None:  # capacity without a think time, else the exam's own pattern
            bare_ramp = args.ramp_seconds if think.mean else 0.0
        slowest = think.mean * (1 + think.jitter)
        timeout = args.timeout or (
            args.arrival_seconds
            + args.ramp_seconds
            + bare_ramp
            + (questions + bare_questions) * slowest
            + 600
        )
        deadline = time.monotonic() + timeout
        bare = Phase("bare", args.candidates)
        if not args.skip_bare:
            print("Loading the bare endpoint ...", file=sys.stderr, flush=True)
            with gunicorn("bare_app:app", env, args, logs / "bare.log", ("PUT", "/bare/0")) as url:

                def bare_client(_i: int, rng: random.Random, url: str = url) -> Awaitable[None]:
                    return answer_bare(bare, url, bare_questions, rng, think)

                asyncio.run(run_phase(bare, bare_client, bare_ramp, deadline, args.seed))

        if args.batch:
            print("Starting the RQ worker ...", file=sys.stderr, flush=True)
            running.enter_context(
                render_worker(
                    env, redis.url, args.batch_nice, args.server_nice, logs / "worker.log"
                )
            )
        print("Loading Certify ...", file=sys.stderr, flush=True)
        exam = Phase("exam", args.candidates)
        arrival = Phase("arrival", args.candidates)
        with gunicorn("wsgi:app", env, args, logs / "certify.log", ("GET", "/healthz")) as url:

            def exam_client(i: int, rng: random.Random, url: str = url) -> Awaitable[None]:
                return sit_exam(exam, url, fixture.session_id, fixture.tokens[i], rng, think)

            async def exam_day() -> None:
                watcher = None
                if args.arrival_seconds:
                    print("Workers arrive and look at their exams ...", file=sys.stderr)

                    def arrive(i: int, _rng: random.Random, url: str = url) -> Awaitable[None]:
                        return look_at_exams(arrival, url, fixture.tokens[i])

                    await run_phase(arrival, arrive, args.arrival_seconds, deadline, args.seed)
                if args.batch:  # the office starts it as the exam opens: the worst moment
                    await asyncio.to_thread(start_batch, app, batch_session, admin_id, batch)
                    watcher = asyncio.create_task(watch_batch(app, batch, math.inf))
                await run_phase(exam, exam_client, args.ramp_seconds, deadline, args.seed)
                if watcher is not None:
                    exam_ended = datetime.now(UTC)
                    print("Waiting for the batch ...", file=sys.stderr, flush=True)
                    with suppress(TimeoutError):
                        await asyncio.wait_for(watcher, args.batch_wait)
                    await asyncio.to_thread(read_batch, app, batch)
                    if batch.finished_at is not None:
                        batch.finished_during_exam = batch.finished_at <= exam_ended

            asyncio.run(exam_day())
        checked = check_answers(app, fixture.session_id, exam.acked)
        log_problems = server_log_problems(logs / "bare.log") + server_log_problems(
            logs / "certify.log"
        )
        if args.batch:
            log_problems += server_log_problems(logs / "worker.log")

    saves, bare_saves = exam.latencies["save"], bare.latencies["save"]
    autosave_p99 = percentile(saves, 99)
    bare_p99 = percentile(bare_saves, 99)
    # Saves sent once every worker has started (plus the slowest first pause): the exam's
    # steady state, apart from the minute of starts.
    settled = args.ramp_seconds + (think.mean * (1 + think.jitter) if think.mean else 0)
    steady = [ms for ms, at in zip(saves, exam.save_sent, strict=True) if at >= settled]
    autosave_rps, bare_rps = exam.save_rps, bare.save_rps
    per_paper = exam.questions or questions
    result = {
        "candidates": args.candidates,
        "errors": exam.error_count + arrival.error_count,
        "lost_answers": checked["lost_answers"],
        "start_p95_ms": percentile(exam.latencies["start"], 95),
        "autosave_p99_ms": autosave_p99,
        "autosave_throughput_ratio": ratio(autosave_rps, bare_rps),
        "autosave_p99_ratio": ratio(autosave_p99, bare_p99),
        "targets": (
            targets := {
                "errors_0": exam.error_count + arrival.error_count == 0,
                "lost_answers_0": checked["lost_answers"] == 0,
                "start_p95_under_1000_ms": (percentile(exam.latencies["start"], 95) or 1e9) < 1000,
                "autosave_p99_ratio_at_most_6": (ratio(autosave_p99, bare_p99) or 1e9) <= 6,
            }
        ),
        "targets_met": all(targets.values()),
        "batch_certificates": args.batch,
        "batch_s": batch.total_s,
        "batch_status": batch.status if args.batch else None,
        "batch_issued": batch.done if args.batch else None,
        "batch_queued_s": batch.queued_s,
        "batch_run_s": batch.run_s,
        "batch_finished_during_exam": batch.finished_during_exam,
        "batch_nice": args.batch_nice if args.batch else None,
        "batch_error": batch.error,
        "database": database,
        "gunicorn": f"-w {args.workers} --threads {args.threads} -k gthread"
        + (f" --keep-alive {args.keep_alive}" if args.keep_alive is not None else ""),
        "ramp_seconds": args.ramp_seconds,
        "bare_ramp_seconds": bare_ramp,
        "think_ms": args.think_ms,
        "questions_per_paper": per_paper,
        "started": exam.started,
        "submitted": exam.finished,
        "start_p50_ms": percentile(exam.latencies["start"], 50),
        "start_p99_ms": percentile(exam.latencies["start"], 99),
        "autosave_requests": exam.save_requests,
        "autosave_acked": len(saves),
        "autosave_rps": round(autosave_rps, 1) if autosave_rps else None,
        # The rate the ramp brings in if the server keeps up; autosave_rps far below it
        # means the app was saturated, which is what the ratio against bare_rps assumes.
        "offered_rps": round(args.candidates * per_paper / args.ramp_seconds, 1)
        if args.ramp_seconds
        else None,
        "autosave_p50_ms": percentile(saves, 50),
        "autosave_p95_ms": percentile(saves, 95),
        # Where the time went: p95 of the starts and saves sent in each 10 s of the phase.
        "start_p95_ms_by_10s": by_window(exam.latencies["start"], exam.start_sent, 95),
        "autosave_p99_ms_by_10s": by_window(saves, exam.save_sent, 99)[:30],
        "autosave_steady_after_s": round(settled, 1),
        "autosave_steady_p50_ms": percentile(steady, 50),
        "autosave_steady_p99_ms": percentile(steady, 99),
        "autosave_steady_p99_ratio": ratio(percentile(steady, 99), bare_p99),
        "submit_p95_ms": percentile(exam.latencies["submit"], 95),
        "arrival_seconds": args.arrival_seconds,
        "arrival_list_p95_ms": percentile(arrival.latencies["list"], 95),
        "bare_requests": bare.save_requests,
        "bare_errors": bare.error_count,
        "bare_rps": round(bare_rps, 1) if bare_rps else None,
        "bare_p50_ms": percentile(bare_saves, 50),
        "bare_p99_ms": bare_p99,
        "bare_questions": 0 if args.skip_bare else bare_questions,
        "think_jitter": args.think_jitter,
        "error_kinds": dict((exam.errors + arrival.errors + bare.errors).most_common()),
        "server_log_problems": len(log_problems),
        "answers_in_db": checked["answers_in_db"],
        "attempts_ended_in_db": checked["attempts_ended_in_db"],
        "client_loop_lag_max_ms": round(exam.loop_lag_max * 1000),
        "client_gc_pause_max_ms": round(gc_pauses.longest * 1000),
        "bare_client_loop_lag_max_ms": round(bare.loop_lag_max * 1000),
        "exam_phase_s": round(exam.elapsed, 1),
        "bare_phase_s": round(bare.elapsed, 1),
        "setup_s": round(setup_s, 1),
        "duration_s": round(time.monotonic() - began, 1),
    }
    if not args.skip_bare:
        print(*summary_lines(bare, "bare endpoint"), sep="\n")
    print(*summary_lines(exam, "autosave     "), sep="\n")
    print(
        f"starts: {len(exam.latencies['start'])}/{args.candidates}, p95 {result['start_p95_ms']}"
        f" ms; submitted {exam.finished}; lost answers {result['lost_answers']}"
    )
    for kind, count in result["error_kinds"].items():
        print(f"error: {kind} x {count}")
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = run(args)
    except KeyboardInterrupt:
        print("Interrupted; the servers were stopped.", file=sys.stderr)
        return 130
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
