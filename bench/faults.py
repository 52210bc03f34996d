"""Faults on exam day: workers killed, the server and the database restarted mid-exam.

    .venv/bin/python bench/faults.py [--candidates 200]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/faults.py

An exam like exam_load.py's (the same set-up, the same gunicorn settings, built from its
functions), but slower (--think-ms 1200 between answers, so that every fault lands while the
clients are answering) and with faults injected on a timeline measured from the first client:

- SIGKILL of --kill-count gunicorn workers (children of the master) at each of --kill-at;
- the whole server restarted once: SIGTERM to the master, then a new gunicorn on the same
  port, timed so that the deadline of --short candidates (a session override that closes
  their window --short-seconds after the start) passes while it is down;
- PostgreSQL restarted once at --db-restart-at (pg_ctlcluster, only when DATABASE_URL is a
  PostgreSQL cluster on this machine; on SQLite it is skipped and the JSON says so);
- Redis (a redis-server of its own, the app's REDIS_URL) stopped at --redis-stop-at for
  --redis-down-seconds, with a login probe before, during and after (--no-redis: none).

Clients behave like the exam page: a request that fails (no connection, a timeout, a 5xx,
408, 429) keeps its answer and is sent again with backoff until it is answered; only a 200
acknowledges an answer. A 409 past_deadline closes the attempt (as the page does). One real
Chromium page (Playwright) chooses answers offline across the server restart and goes back
online once the new server answers: its queued answers must arrive.

Afterwards: every acknowledged answer is looked up in the database (lost_answers), each
attempt's deadline is compared with the one seen at its start and with the database's before
each fault (deadlines_changed), `expire_overdue()` finalises the short candidates who walked
away, and every short attempt must have ended at its deadline with its saved answers.
The LAST line on stdout is one JSON object; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import exam_load as el

REQUEST_TIMEOUT = 10.0  # seconds; the page gives up on a request after 8 s
BACKOFF_FIRST = 0.25  # seconds before the first retry, doubled up to BACKOFF_MAX, with jitter
BACKOFF_MAX = 4.0
REVISITS = 5  # questions each candidate answers again, differently, after the last one
PASSWORD = "bench-phone-pass-1"  # the browser candidate's own password
PHONE_ONLINE = 3  # answers the browser saves before the outage
PHONE_OFFLINE = 5  # answers it chooses while offline across the restart
# tests/e2e/conftest.py launches Debian's Chromium with these (copied: tests is not a package
# to import from a benchmark)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def note(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# --- the server: exam_load.gunicorn picks a new port each time, a restart needs the same one ---


class Server:
    """gunicorn serving Certify on one fixed port, with the settings of exam_load.gunicorn."""

    def __init__(self, env: dict[str, str], args, logs: Path) -> None:
        self.env, self.args, self.logs = env, args, logs
        self.port = el.free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_files: list[Path] = []

    def start(self) -> None:
        args = self.args
        command = [
            *el.gunicorn_command(),
            *("-w", str(args.workers), "--threads", str(args.threads), "-k", "gthread"),
            *("-b", f"127.0.0.1:{self.port}", "--graceful-timeout", "10"),
            *("--keep-alive", str(args.keep_alive), "wsgi:app"),
        ]
        log = self.logs / f"certify-{len(self.log_files) + 1}.log"
        self.log_files.append(log)
        with log.open("wb") as log_file:
            self.process = subprocess.Popen(
                command,
                cwd=el.REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=(lambda: os.nice(args.server_nice)) if args.server_nice else None,
            )
        el.wait_until_ready(self.process, self.base_url, ("GET", "/healthz"), log)

    def stop(self) -> None:
        """SIGTERM to the master (graceful), SIGKILL of its group after 20 s: exam_load.stop."""
        if self.process is not None:
            el.stop(self.process)

    def worker_pids(self) -> list[int]:
        """The master's children, from /proc (no psutil)."""
        if self.process is None or self.process.poll() is not None:
            return []
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid …: comm may hold spaces and parentheses
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                children.append(int(entry.name))
        return sorted(children)

    def kill_workers(self, count: int, rng: random.Random) -> list[int]:
        pids = self.worker_pids()
        victims = rng.sample(pids, min(count, len(pids)))
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                victims.remove(pid)
        return victims

    def problems(self) -> list[str]:
        return [line for log in self.log_files for line in el.server_log_problems(log)]


def local_cluster(database_url: str) -> tuple[str, str] | None:
    """(version, name) of the pg_lsclusters cluster on the URL's port, if the host is local."""
    parts = urlsplit(database_url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1") or not shutil.which("pg_lsclusters"):
        return None
    port = str(parts.port or 5432)
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
    ).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == port:
            return fields[0], fields[1]
    return None


def restart_postgres(cluster: tuple[str, str]) -> float:
    """pg_ctlcluster restart (fast shutdown: every connection dies), then pg_isready; seconds."""
    began = time.monotonic()
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "restart"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    while subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode != 0:
        if time.monotonic() - began > 120:
            raise RuntimeError("PostgreSQL did not come back within 120 s")
        time.sleep(0.2)
    return time.monotonic() - began


async def login_probe(base_url: str) -> int | str:
    """POST /api/v1/auth/token with an unknown user: 401 normally (the limiter is consulted)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT, trust_env=False) as c:
        try:
            body = {"username": "no-such-user-bench", "password": "wrong-password"}
            return (await c.post("/api/v1/auth/token", json=body)).status_code
        except httpx.HTTPError as exc:
            return type(exc).__name__


def jobs_go_inline(app) -> bool:
    """What the app decides about a job now: True when it would run inline (no usable queue)."""
    from certify.jobs.queue import usable_queue

    with app.test_request_context():
        return usable_queue() is None


# --- the clients -----------------------------------------------------------------------------


@dataclass
class Run:
    """What the clients and the faults recorded."""

    acked: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    deadline_seen: dict[int, datetime] = field(default_factory=dict)  # attempt -> at its start
    deadline_moved: set[int] = field(default_factory=set)
    failed_tries: Counter = field(default_factory=Counter)  # every failed send, by kind
    gave_up: Counter = field(default_factory=Counter)  # never answered within --give-up-seconds
    rejected: Counter = field(default_factory=Counter)  # a 4xx other than the page's retry codes
    requests: int = 0
    retries: int = 0
    acked_after_retry: int = 0
    longest_wait_s: float = 0.0  # from the first try to the 200, for answers that needed retries
    started: int = 0
    submitted: int = 0
    closed_at_deadline: int = 0  # short candidates told 409 past_deadline after the outage
    walked_away: int = 0
    active: int = 0
    short_attempts: set[int] = field(default_factory=set)
    outage: asyncio.Event = field(default_factory=asyncio.Event)
    loop_lag_max: float = 0.0
    faults: list[dict] = field(default_factory=list)
    redis: dict = field(default_factory=dict)


def error_code(response: httpx.Response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


async def send(run: Run, client: httpx.AsyncClient, method: str, url: str, body, rng, give_up):
    """Send until answered, as the page does: ('ok' | 'closed' | 'reject' | 'gave_up', response).

    No connection, a timeout, a 5xx, 408 or 429: the same request again after a backoff.
    A 409 past_deadline / attempt_closed: the attempt is over. Another 4xx: refused for good.
    """
    first = time.monotonic()
    wait = BACKOFF_FIRST
    step = url.rsplit("/", 2)[-2] if "/answers/" in url else url.rsplit("/", 1)[-1]
    tries = 0
    while True:
        tries += 1
        run.requests += 1
        try:
            response = await client.request(method, url, json=body)
        except httpx.HTTPError as exc:
            kind = type(exc).__name__
        else:
            status = response.status_code
            if status == 200:
                if tries > 1:
                    run.acked_after_retry += 1
                    run.longest_wait_s = max(run.longest_wait_s, time.monotonic() - first)
                return "ok", response
            code = error_code(response)
            if status == 409 and code in ("past_deadline", "attempt_closed"):
                return "closed", response
            if status < 500 and status not in (408, 429):
                run.rejected[f"{step}: HTTP {status} {code or ''}".strip()] += 1
                return "reject", response
            kind = f"HTTP {status}" + (f" {code}" if code else "")
        run.failed_tries[kind] += 1
        if time.monotonic() + wait > first + give_up:
            run.gave_up[f"{step}: {kind}"] += 1
            return "gave_up", None
        run.retries += 1
        await asyncio.sleep(wait * (0.5 + rng.random()))
        wait = min(wait * 2, BACKOFF_MAX)


def other_choice(kind: str, options: list[str], before: list[str], rng) -> list[str]:
    for _ in range(10):
        chosen = el.choose(kind, options, rng)
        if sorted(chosen) != sorted(before):
            return chosen
    return chosen


async def candidate(
    run: Run, base_url: str, session_id: int, token: str, rng, args, role: str
) -> None:
    """One worker's exam: start, answer all, change a few, reload, hand in; retrying throughout.

    role "main" sits the whole exam; "short-stay" has a window closing during the outage and
    keeps trying through it; "short-leave" has the same window and walks away at the outage.
    """
    think, give_up = args.think_ms / 1000, args.give_up_seconds
    start_url = f"/api/v1/exams/{session_id}/attempts"
    run.active += 1
    try:
        async with el.client_for(base_url, token) as client:
            client.timeout = httpx.Timeout(REQUEST_TIMEOUT)
            outcome, response = await send(run, client, "POST", start_url, {}, rng, give_up)
            if outcome != "ok":
                return
            paper = response.json()
            attempt_id = paper["attempt_id"]
            run.started += 1
            run.deadline_seen[attempt_id] = datetime.fromisoformat(paper["deadline"])
            if role != "main":
                run.short_attempts.add(attempt_id)
            questions = [
                (q["id"], q["type"], [o["id"] for o in q["options"]]) for q in paper["questions"]
            ]
            del paper, response
            plan = [(q, kind, options, None) for q, kind, options in questions]
            plan += [(*q, "again") for q in rng.sample(questions, min(REVISITS, len(questions)))]
            given: dict[int, list[str]] = {}
            for question_id, kind, options, again in plan:
                if role == "short-leave" and run.outage.is_set():
                    run.walked_away += 1
                    return
                await asyncio.sleep(think * (0.5 + rng.random()))
                if again:
                    chosen = other_choice(kind, options, given.get(question_id, []), rng)
                else:
                    chosen = el.choose(kind, options, rng)
                given[question_id] = chosen
                url = f"/api/v1/attempts/{attempt_id}/answers/{question_id}"
                outcome, _ = await send(run, client, "PUT", url, {"answer": chosen}, rng, give_up)
                if outcome == "ok":
                    run.acked[(attempt_id, question_id)] = sorted(chosen)
                elif outcome == "closed":
                    if role == "main":
                        run.rejected["save: 409 closed (not a short candidate)"] += 1
                    else:
                        run.closed_at_deadline += 1
                    return  # the page stops and opens the result page
            # a reload after everything: the same attempt, the same deadline
            outcome, response = await send(run, client, "POST", start_url, {}, rng, give_up)
            if outcome == "ok":
                again_deadline = datetime.fromisoformat(response.json()["deadline"])
                if again_deadline != run.deadline_seen[attempt_id]:
                    run.deadline_moved.add(attempt_id)
            submit_url = f"/api/v1/attempts/{attempt_id}/submit"
            outcome, response = await send(run, client, "POST", submit_url, None, rng, give_up)
            if outcome == "ok" and response.json().get("status") == "submitted":
                run.submitted += 1
    finally:
        run.active -= 1


# --- the phone: one real page -----------------------------------------------------------------


class Phone:
    """Debian's Chromium through Playwright's async API, on a phone-sized screen."""

    def __init__(self, app, base_url: str) -> None:
        self.app, self.base_url = app, base_url
        self.attempt_id: int | None = None
        self.deadline: datetime | None = None
        self.chosen: dict[int, list[str]] = {}  # question -> what the page shows as chosen
        self.queued: list[int] = []  # chosen offline
        self.queued_in_storage = 0
        self.in_db_while_offline = 0
        self.arrived: bool | None = None
        self.arrival_s: float | None = None
        self.problem: str | None = None

    async def open(self, login: str) -> None:
        from playwright.async_api import async_playwright

        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        context = await self._browser.new_context(
            viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN"
        )
        context.set_default_timeout(30_000)
        page = self.page = await context.new_page()
        await page.goto(f"{self.base_url}/login")
        await page.fill("#login", login)
        await page.fill("#password", PASSWORD)
        await page.click("button.primary")
        await page.wait_for_load_state()
        await page.goto(f"{self.base_url}/exams/")
        await page.click("text=开始考试")
        await page.wait_for_selector("#exam-form")
        self.attempt_id = int(await page.get_attribute("#exam-form", "data-attempt"))
        deadline = await page.get_attribute("#exam-form", "data-deadline")
        self.deadline = datetime.fromisoformat(deadline)
        for position in range(PHONE_ONLINE):
            await self.answer(position)
        for position in range(PHONE_ONLINE):
            await self.wait_state(position, "saved", 20_000)

    def question(self, position: int):
        return self.page.locator("fieldset.question").nth(position)

    async def answer(self, position: int) -> None:
        question = self.question(position)
        await question.locator(".answer label").first.click()
        qid = int(await question.get_attribute("data-question"))
        checked = question.locator(".answer input:checked")
        self.chosen[qid] = sorted(
            [await checked.nth(i).get_attribute("value") for i in range(await checked.count())]
        )

    async def wait_state(self, position: int, state: str, timeout_ms: float) -> None:
        await (
            self.question(position)
            .locator(f'.save-state[data-state="{state}"]')
            .wait_for(timeout=timeout_ms)
        )

    async def go_offline_and_answer(self) -> None:
        await self.page.context.set_offline(True)
        positions = range(PHONE_ONLINE, PHONE_ONLINE + PHONE_OFFLINE)
        for position in positions:
            await self.answer(position)
            self.queued.append(int(await self.question(position).get_attribute("data-question")))
        for position in positions:
            await self.wait_state(position, "unsaved", 10_000)
        key = f"certify.exam.{self.attempt_id}.queue"
        stored = await self.page.evaluate(
            f"() => JSON.parse(localStorage.getItem('{key}') || '{{}}')"
        )
        self.queued_in_storage = sum(1 for q in self.queued if str(q) in stored)
        saved = self.saved()
        self.in_db_while_offline = sum(1 for q in self.queued if q in saved)

    async def come_back(self, timeout_s: float) -> None:
        """Online again (the new server already answers): the queue must drain to the server."""
        began = time.monotonic()
        await self.page.context.set_offline(False)
        try:
            for position in range(PHONE_ONLINE, PHONE_ONLINE + PHONE_OFFLINE):
                left = max(1.0, timeout_s - (time.monotonic() - began))
                await self.wait_state(position, "saved", left * 1000)
        except Exception as exc:
            self.problem = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        self.arrival_s = round(time.monotonic() - began, 1)
        saved = self.saved()
        self.arrived = all(saved.get(q) == self.chosen[q] for q in self.queued)

    def saved(self) -> dict[int, list[str]]:
        from certify.exams.models import Attempt
        from certify.exams.services import saved_answers
        from certify.extensions import db

        with self.app.app_context():
            answers = saved_answers(db.session.get(Attempt, self.attempt_id))
            db.session.remove()
        return {q: sorted(chosen) for q, chosen in answers.items()}

    async def close(self) -> None:
        for closing in ("_browser", "_playwright"):
            thing = getattr(self, closing, None)
            if thing is not None:
                with contextlib.suppress(Exception):
                    await (thing.close() if closing == "_browser" else thing.stop())


# --- the faults ---------------------------------------------------------------------------------


async def inject(run: Run, server: Server, phone: Phone | None, cluster, args, t0, deadline_at):
    """Run the timeline; every blocking step in a thread so that the clients go on."""
    rng = random.Random(args.seed * 31)
    counts = Counter()
    snapshots: list[dict[int, datetime]] = []
    phone_back: asyncio.Task | None = None

    def record(what: str, **details) -> None:
        at = round(time.monotonic() - t0, 1)
        run.faults.append({"at_s": at, "what": what, "active_clients": run.active, **details})
        note(f"fault at {at} s: {what} ({run.active} clients answering) {details or ''}")

    restart_at = deadline_at - t0 - 4.0  # the master goes down 4 s before the short deadline
    timeline = [(at, "kill") for at in args.kill_at]
    timeline.append((restart_at, "restart"))
    if args.db_restart_at is not None:
        timeline.append((args.db_restart_at, "db"))
    if phone is not None:
        timeline.append((restart_at - 6.0, "phone-offline"))
    if args.redis_server is not None:
        timeline.append((args.redis_stop_at, "redis-stop"))
        timeline.append((args.redis_stop_at + args.redis_down_seconds, "redis-start"))
    for at, what in sorted(timeline):
        await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
        if what != "phone-offline":
            snapshots.append(await asyncio.to_thread(deadline_snapshot, args.app, args.session_id))
        if what == "kill":
            victims = server.kill_workers(args.kill_count, rng)
            counts["worker_kills"] += len(victims)
            record(f"SIGKILL to {len(victims)} gunicorn workers", pids=victims)
        elif what == "phone-offline":
            try:
                await phone.go_offline_and_answer()
                record("phone offline", queued=len(phone.queued))
            except Exception as exc:
                phone.problem = f"offline step: {type(exc).__name__}: {exc}"[:200]
        elif what == "restart":
            run.outage.set()
            down = time.monotonic()
            record("SIGTERM to the gunicorn master")
            await asyncio.to_thread(server.stop)
            stopped = time.monotonic()
            # down across the short candidates' deadline, then a new server on the same port
            await asyncio.sleep(max(0.0, deadline_at + 2.0 - time.monotonic()))
            starting = time.monotonic()
            await asyncio.to_thread(server.start)
            counts["server_restarts"] += 1
            record(
                "new gunicorn master answering",
                down_s=round(time.monotonic() - down, 1),
                old_master_exit_s=round(stopped - down, 1),
                new_master_ready_s=round(time.monotonic() - starting, 1),
            )
            if phone is not None and phone.queued:
                phone_back = asyncio.create_task(phone.come_back(args.phone_timeout))
        elif what == "redis-stop":
            redis = run.redis
            redis["login_before"] = await login_probe(server.base_url)
            await asyncio.to_thread(args.redis_server.stop)
            redis["acked_at_stop"] = len(run.acked)
            redis["login_during"] = await login_probe(server.base_url)
            redis["jobs_inline_during"] = await asyncio.to_thread(jobs_go_inline, args.app)
            record("Redis stopped", login_status=redis["login_during"])
        elif what == "redis-start":
            redis = run.redis
            redis["acked_during"] = len(run.acked) - redis.pop("acked_at_stop", len(run.acked))
            await asyncio.to_thread(args.redis_server.start)
            redis["login_after"] = await login_probe(server.base_url)
            counts["redis_outages"] += 1
            record("Redis started again", login_status=redis["login_after"])
        elif what == "db":
            if cluster is None:
                record("PostgreSQL restart skipped", reason=args.db_skip_reason)
                continue
            took = await asyncio.to_thread(restart_postgres, cluster)
            counts["db_restarts"] += 1
            record("PostgreSQL restarted", took_s=round(took, 1))
    if phone_back is not None:
        await phone_back
    return counts, snapshots


def deadline_snapshot(app, session_id: int) -> dict[int, datetime]:
    import sqlalchemy as sa

    from certify.exams.models import Attempt
    from certify.extensions import db

    for _ in range(5):  # SQLite may be busy, PostgreSQL may be restarting
        try:
            with app.app_context():
                rows = db.session.execute(
                    sa.select(Attempt.id, Attempt.deadline).where(Attempt.session_id == session_id)
                ).all()
                db.session.remove()
            return dict(rows)
        except Exception:
            time.sleep(1)
    return {}


async def watch(run: Run, began: float) -> None:
    """Progress on stderr every 10 s, and how late the event loop was (exam_load.progress)."""
    tick, last = 0.1, time.monotonic()
    while True:
        before = time.monotonic()
        await asyncio.sleep(tick)
        run.loop_lag_max = max(run.loop_lag_max, time.monotonic() - before - tick)
        if time.monotonic() - last >= el.PROGRESS_EVERY:
            last = time.monotonic()
            note(
                f"{last - began:5.0f} s: {run.active} answering, {len(run.acked)} acked, "
                f"{run.retries} retries, {run.submitted} submitted"
            )


# --- set-up and checks through the app ----------------------------------------------------------


def people(app, session_id: int, total: int) -> list:
    """The enrolled users in roster order (the order of Fixture.tokens)."""
    import sqlalchemy as sa

    from certify.cohorts.models import Enrolment
    from certify.exams.models import ExamSession
    from certify.extensions import db

    exam = db.session.get(ExamSession, session_id)
    users = [
        e.user
        for e in db.session.scalars(
            sa.select(Enrolment).where(Enrolment.cohort_id == exam.cohort_id).order_by(Enrolment.id)
        )
    ]
    assert len(users) == total, (len(users), total)
    return users


def phone_password(app, session_id: int, total: int) -> str:
    """The browser candidate (the last one) gets a password of their own; returns the login."""
    from certify.accounts.services import change_password
    from certify.extensions import db

    with app.app_context():
        user = people(app, session_id, total)[-1]
        change_password(user, user.first_password, PASSWORD)
        login = user.id_number
        db.session.commit()
        db.session.remove()
    return login


def shorten(app, session_id: int, total: int, first: int, count: int, seconds: float) -> None:
    """Session overrides closing the window of candidates [first, first+count) in `seconds`."""
    from certify.core import clock
    from certify.exams.services import get_session, set_override
    from certify.extensions import db

    closes_at = clock.now() + timedelta(seconds=seconds)
    with app.app_context():
        exam = get_session(session_id)
        for user in people(app, session_id, total)[first : first + count]:
            set_override(exam, user, closes_at=closes_at, reason="bench/faults.py short window")
        db.session.commit()
        db.session.remove()


def finalise_and_check(app, session_id: int, short_attempts: set[int]) -> dict:
    """expire_overdue() as cron would run it, then how the short attempts ended."""
    import sqlalchemy as sa

    from certify.core import clock
    from certify.exams.models import Attempt, AttemptAnswer, AttemptStatus
    from certify.exams.services import expire_overdue
    from certify.extensions import db

    with app.app_context():
        overdue = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Attempt)
            .where(
                Attempt.session_id == session_id,
                Attempt.status == AttemptStatus.IN_PROGRESS,
                Attempt.deadline <= clock.now(),
            )
        )
        finalised_now = expire_overdue()
        short = db.session.scalars(sa.select(Attempt).where(Attempt.id.in_(short_attempts))).all()
        ended = (AttemptStatus.EXPIRED, AttemptStatus.GRADED)
        expired_ok = sum(
            1
            for a in short
            if a.status in ended and a.ended_at == a.deadline and a.score_hundredths is not None
        )
        late_answers = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AttemptAnswer)
            .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
            .where(Attempt.session_id == session_id, AttemptAnswer.saved_at >= Attempt.deadline)
        )
        deadlines = dict(
            db.session.execute(
                sa.select(Attempt.id, Attempt.deadline).where(Attempt.session_id == session_id)
            ).all()
        )
        statuses = Counter(
            str(s)
            for s in db.session.scalars(
                sa.select(Attempt.status).where(Attempt.session_id == session_id)
            )
        )
        db.session.remove()
        db.engine.dispose()
    return {
        "overdue_before_expire": overdue,
        "expire_overdue_finalised": finalised_now,
        "expired_finalised": expired_ok,
        "short_attempts": len(short),
        "answers_saved_after_deadline": late_answers,
        "deadlines_after": deadlines,
        "attempt_statuses": dict(statuses),
    }


# --- the run -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--candidates", type=int, default=200, help="simulated workers over the API (200)")
    add("--short", type=int, default=6, help="of them, with a window closing in the outage (6)")
    add("--short-seconds", type=float, default=60.0, help="their window after the start (60)")
    add("--ramp-seconds", type=float, default=10.0, help="main candidates start within (10)")
    add("--think-ms", type=float, default=1200.0, help="mean pause before each answer (1200)")
    add("--kill-at", default="20,40,95", help="seconds of SIGKILLs to workers (20,40,95)")
    add("--kill-count", type=int, default=2, help="workers killed each time (2)")
    add("--db-restart-at", type=float, default=80.0, help="second of the PostgreSQL restart (80)")
    add("--no-db-restart", action="store_true", help="never restart PostgreSQL")
    add("--no-browser", action="store_true", help="no Chromium page")
    add("--no-redis", action="store_true", help="no REDIS_URL and no Redis outage")
    add("--redis-stop-at", type=float, default=25.0, help="second Redis is stopped at (25)")
    add("--redis-down-seconds", type=float, default=10.0, help="and for how long (10)")
    add("--give-up-seconds", type=float, default=120.0, help="a request is retried this long (120)")
    add("--phone-timeout", type=float, default=60.0, help="for the queued answers to arrive (60)")
    add("--timeout", type=float, default=600.0, help="the exam phase is cut off after (600)")
    add("--workers", type=int, default=2 * el.CORES + 1, help="gunicorn workers (2 x cores + 1)")
    add("--threads", type=int, default=4, help="gunicorn threads per worker (4)")
    add("--keep-alive", type=int, default=10, help="gunicorn --keep-alive (10)")
    add("--server-nice", type=int, default=5, help="niceness of the server (5)")
    add("--log-dir", type=Path, help="keep gunicorn's logs here")
    add("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    # a Redis of its own (REDIS_URL, as in production) stopped for a while, unless not wanted
    # or not installed (the JSON says which)
    args.redis = not args.no_redis and bool(shutil.which("redis-server"))
    args.redis_skip_reason = "--no-redis" if args.no_redis else "redis-server is not installed"
    args.kill_at = sorted(float(x) for x in args.kill_at.split(",") if x.strip())
    if not 1 <= args.short < args.candidates:
        parser.error("--short is 1 to candidates - 1")
    if args.short_seconds < 20:
        parser.error("--short-seconds must leave time to answer before the outage (>= 20)")
    return args


def run(args: argparse.Namespace) -> dict:
    from certify import create_app
    from certify.config import load_settings

    began = time.monotonic()
    database_url, on_postgres = el.database_from_env()
    cluster = None
    args.db_skip_reason = "SQLite: no database server to restart"
    if on_postgres and args.no_db_restart:
        args.db_skip_reason = "--no-db-restart"
    elif on_postgres:
        cluster = local_cluster(database_url)
        args.db_skip_reason = "not a pg_lsclusters cluster on this machine"
    total = args.candidates + (0 if args.no_browser else 1)
    with tempfile.TemporaryDirectory(prefix="certify-faults-") as tmp:
        tmp_path = Path(tmp)
        if not database_url:
            database_url = f"sqlite:///{tmp_path / 'certify-faults.db'}"
        env = {
            **os.environ,
            "CERTIFY_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(36),  # the same for both servers: logins survive
            "BASE_URL": el.BENCH_BASE_URL,
            "DATABASE_URL": database_url,
            "CERTIFY_INSTANCE_PATH": str(tmp_path / "instance"),
            "CERTIFICATE_DIR": str(tmp_path / "certificates"),
        }
        env.pop("REDIS_URL", None)
        logs = args.log_dir or tmp_path
        logs.mkdir(parents=True, exist_ok=True)
        redis = args.redis_server = el.RedisServer() if args.redis else None
        server = None
        try:
            if redis is not None:
                redis.start()
                env["REDIS_URL"] = redis.url
            note(
                f"set-up: {args.candidates} candidates ({args.short} short) + "
                f"{total - args.candidates} browser on {'postgresql' if on_postgres else 'sqlite'}"
                + (f", REDIS_URL={redis.url}" if redis else "")
            )
            if on_postgres:
                el.reset_postgres(database_url)
            app = create_app(load_settings(env))
            fixture = el.prepare(app, total)
            args.app, args.session_id = app, fixture.session_id
            login = None if args.no_browser else phone_password(app, fixture.session_id, total)
            gc.collect()
            gc.freeze()
            server = Server(env, args, logs)
            server.start()
            result = asyncio.run(exam(args, app, fixture, server, login, cluster, total))
        finally:
            if server is not None:
                server.stop()
            if redis is not None:
                redis.stop()
        checked = el.check_answers(app, fixture.session_id, result["run"].acked)
        ended = finalise_and_check(app, fixture.session_id, result["run"].short_attempts)
        problems = server.problems()
    return report(args, result, checked, ended, problems, on_postgres, began)


async def exam(args, app, fixture, server: Server, login, cluster, total) -> dict:
    run = Run()
    phone, phone_failed = None, None
    if login is not None:
        phone = Phone(app, server.base_url)
        try:
            await phone.open(login)
            run.deadline_seen[phone.attempt_id] = phone.deadline
        except Exception as exc:
            shown = phone.page.url if getattr(phone, "page", None) else "no page"
            phone_failed = f"opening the exam page ({shown}): {type(exc).__name__}: {exc}"[:300]
            note(phone_failed)
            await phone.close()
            phone = None
        else:
            phone_failed = None
    main = args.candidates - args.short
    # the short window closes short_seconds from now: deadline_at on this process's clock
    deadline_at = time.monotonic() + args.short_seconds
    await asyncio.to_thread(
        shorten, app, fixture.session_id, total, main, args.short, args.short_seconds
    )
    t0 = time.monotonic()
    note(
        f"exam: {args.candidates} candidates; faults at {args.kill_at} s (SIGKILL), "
        f"{deadline_at - t0 - 4:.0f} s (server restart), {args.db_restart_at} s (database)"
    )

    async def one(i: int) -> None:
        role = "main" if i < main else ("short-stay" if (i - main) % 2 == 0 else "short-leave")
        rng = random.Random(args.seed * 104_729 + i)
        if role == "main":
            await asyncio.sleep(random.Random(args.seed * 7919 + i).random() * args.ramp_seconds)
        await candidate(
            run, server.base_url, fixture.session_id, fixture.tokens[i], rng, args, role
        )

    watcher = asyncio.create_task(watch(run, t0))
    faults = asyncio.create_task(inject(run, server, phone, cluster, args, t0, deadline_at))
    tasks = [asyncio.create_task(one(i)) for i in range(args.candidates)]

    def abort(task: asyncio.Task) -> None:  # a fault that could not be injected ends the run
        if not task.cancelled() and task.exception() is not None:
            for client in tasks:
                client.cancel()

    faults.add_done_callback(abort)
    try:
        done, pending = await asyncio.wait(tasks, timeout=args.timeout)
        for task in pending:
            task.cancel()
        counts, snapshots = await faults
    finally:
        watcher.cancel()
        await asyncio.gather(*tasks, watcher, return_exceptions=True)
        if phone is not None:
            await phone.close()
    crashed = [repr(t.exception())[:200] for t in done if t.exception() is not None]
    exam_s = time.monotonic() - t0
    return {
        "run": run,
        "counts": counts,
        "snapshots": snapshots,
        "phone": phone,
        "phone_failed": phone_failed if login is not None else "--no-browser",
        "cut_off": len(pending),
        "crashed": crashed,
        "exam_s": exam_s,
    }


def report(args, result, checked, ended, problems, on_postgres, began) -> dict:
    run: Run = result["run"]
    counts, phone = result["counts"], result["phone"]
    after = ended.pop("deadlines_after")
    changed = set(run.deadline_moved)
    for attempt_id, seen in run.deadline_seen.items():
        if after.get(attempt_id) != seen:
            changed.add(attempt_id)
    for snapshot in result["snapshots"]:
        changed |= {a for a, d in snapshot.items() if after.get(a) != d}
    errors_after_retry = sum(run.gave_up.values()) + sum(run.rejected.values())
    errors_after_retry += result["cut_off"] + len(result["crashed"])
    out = {
        "candidates": args.candidates,
        "acked": len(run.acked),
        "lost_answers": checked["lost_answers"],
        "errors_after_retry": errors_after_retry,
        "worker_kills": counts["worker_kills"],
        "server_restarts": counts["server_restarts"],
        "db_restarts": counts["db_restarts"],
        "deadlines_changed": len(changed),
        "expired_finalised": ended["expired_finalised"],
        "browser_queued_arrived": bool(phone and phone.arrived),
        "retries": run.retries,
        "duration_s": round(time.monotonic() - began, 1),
        "database": "postgresql" if on_postgres else "sqlite",
        "db_restart_note": None if counts["db_restarts"] else args.db_skip_reason,
        "short_candidates": args.short,
        "short_attempts": ended["short_attempts"],
        "short_closed_at_deadline": run.closed_at_deadline,
        "short_walked_away": run.walked_away,
        "overdue_before_expire": ended["overdue_before_expire"],
        "expire_overdue_finalised": ended["expire_overdue_finalised"],
        "answers_saved_after_deadline": ended["answers_saved_after_deadline"],
        "started": run.started,
        "submitted": run.submitted,
        "requests": run.requests,
        "acked_after_retry": run.acked_after_retry,
        "longest_wait_for_ack_s": round(run.longest_wait_s, 1),
        "failed_tries": dict(run.failed_tries.most_common()),
        "gave_up": dict(run.gave_up),
        "rejected": dict(run.rejected),
        "cut_off_by_timeout": result["cut_off"],
        "client_crashes": result["crashed"][:5],
        "answers_in_db": checked["answers_in_db"],
        "attempt_statuses": ended["attempt_statuses"],
        "redis": run.redis if args.redis else f"skipped: {args.redis_skip_reason}",
        "faults": run.faults,
        "browser": None
        if phone is None
        else {
            "attempt": phone.attempt_id,
            "queued_offline": len(phone.queued),
            "queued_in_local_storage": phone.queued_in_storage,
            "in_db_while_offline": phone.in_db_while_offline,
            "arrived_within_s": phone.arrival_s,
            "problem": phone.problem,
        },
        "browser_failed": result["phone_failed"],
        "server_log_problems": len(problems),
        "client_loop_lag_max_ms": round(run.loop_lag_max * 1000),
        "exam_phase_s": round(result["exam_s"], 1),
        "think_ms": args.think_ms,
        "gunicorn": f"-w {args.workers} --threads {args.threads} -k gthread "
        f"--keep-alive {args.keep_alive}",
    }
    print(
        f"acked {out['acked']} answers, lost {out['lost_answers']}, "
        f"{out['errors_after_retry']} requests never succeeded, {out['retries']} retries; "
        f"{out['worker_kills']} workers killed, {out['server_restarts']} server restart(s), "
        f"{out['db_restarts']} database restart(s); deadlines changed {out['deadlines_changed']}; "
        f"short attempts finalised {out['expired_finalised']}/{out['short_attempts']}; "
        f"browser queue arrived: {out['browser_queued_arrived']}"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, el._interrupt)
    try:
        result = run(args)
    except KeyboardInterrupt:
        print("Interrupted; the server was stopped.", file=sys.stderr)
        return 130
    print(json.dumps(result, ensure_ascii=False, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
