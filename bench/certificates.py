"""Certificate rendering benchmark: a bare page against real certificates, and a batch of N.

    .venv/bin/python bench/certificates.py [--batch 1000] [--warmup 20] [--samples 30]

What it does, in order (bench/README.md explains the figures):

1. Builds a fresh SQLite database in a temporary folder through Certify's own services: the
   仓库保管员 trade with its shipped bank and 五级 blueprint, a class of warm-up + N workers
   enrolled from a roster CSV (one in ten named with a rare character: 䶮 堃 喆 昇 珺), an exam
   session, one final pass per worker (Result rows in the FINAL state: passed, published with
   0 days of publicity, finalised), and the signing key (init_keys). The clock is frozen.
2. Issues the warm-up certificates through issue_certificate, one commit each, so imports,
   font look-ups and caches are loaded before anything is timed.
3. Renders the bare page (bench/bare_page.html: A4 landscape, a little Latin text) and the
   warm-up certificates alternately, --samples times each, through the same render_pdf:
   render_ratio is the certificate's mean over the bare page's mean.
4. Issues the other N certificates as `flask certificates issue` does (issue_pending_certificates,
   one commit per certificate): numbering, signing, rendering, storing and committing, timed
   one by one, with the resident set size (/proc/self/statm) before and after.
5. Checks what was stored: every PDF against its recorded SHA-256, and one rare-name PDF's
   embedded signed payload and fonts.

Nothing leaves the temporary folder and no database but the temporary SQLite file is used.
The LAST line on stdout is one JSON object; nothing is asserted: it is a benchmark.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import math
import os
import platform
import random
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import exam_load as el

BARE_PAGE = Path(__file__).resolve().parent / "bare_page.html"
FROZEN_AT = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)  # a Monday, 09:30 in Wenzhou
REGIONS = ("330302", "330303", "330304", "330305", "330324", "330326", "330381", "330382")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰"
RARE_CHARS = "䶮堃喆昇珺"  # 䶮 is in CJK Extension A (U+4DAE); the others are in the base block
RARE_NAMES = ("刘䶮", "王堃", "张喆", "陈昇", "周珺", "李堃喆", "赵珺", "孙昇䶮", "吴喆", "郑珺堃")
RARE_EVERY = 10  # one worker in ten has a rare name; the first five have one each
BIRTH_DAYS = 9000  # birth dates 1970-01-01 onwards; the ID sequence number counts the wraps
PROGRESS_EVERY = 10.0  # seconds between progress lines on stderr
TARGET_RENDER_RATIO = 2.0
TARGET_PDF_KB = 150.0


# --- measuring -------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile, in the values' unit, rounded to 0.1."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)


def mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def statm() -> tuple[int, int] | None:
    """(resident, anonymous resident) bytes from /proc/self/statm (Linux); None elsewhere.

    Anonymous = resident - shared: the heap, without file pages such as mapped fonts.
    """
    try:
        fields = Path("/proc/self/statm").read_text().split()
    except OSError:
        return None
    page = os.sysconf("SC_PAGE_SIZE")
    return int(fields[1]) * page, (int(fields[1]) - int(fields[2])) * page


def rss_peak_bytes() -> int | None:
    """The high-water mark of the resident set (VmHWM in /proc/self/status)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def mb(value: int | None) -> float | None:
    return None if value is None else round(value / 2**20, 1)


def settled_statm() -> tuple[int, int] | None:
    """statm() after a full collection, so garbage waiting for the collector is not counted."""
    gc.collect()
    return statm()


class Stopwatch:
    """Wraps a function of a module to add up the wall time spent in it (it still runs)."""

    def __init__(self, module, name: str) -> None:
        self.module, self.name = module, name
        self.original = getattr(module, name)
        self.calls, self.seconds = 0, 0.0

    def __enter__(self) -> Stopwatch:
        original = self.original

        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began
                self.calls += 1

        setattr(self.module, self.name, timed)
        return self

    def __exit__(self, *_exc) -> None:
        setattr(self.module, self.name, self.original)

    @property
    def mean_ms(self) -> float | None:
        return round(self.seconds / self.calls * 1000, 1) if self.calls else None


class Progress:
    """A line on stderr every PROGRESS_EVERY seconds."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total = label, total
        self.began = self.last = time.monotonic()

    def tick(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY or done == self.total:
            self.last = now
            print(
                f"  [{self.label}] {now - self.began:5.0f} s: {done}/{self.total}",
                file=sys.stderr,
                flush=True,
            )


# --- set-up ----------------------------------------------------------------------------------


def worker_name(i: int) -> str:
    if i < len(RARE_CHARS) or i % RARE_EVERY == 0:
        return RARE_NAMES[(i if i < len(RARE_CHARS) else i // RARE_EVERY) % len(RARE_NAMES)]
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]


def is_rare(name: str) -> bool:
    return any(c in RARE_CHARS for c in name)


def roster_csv(count: int) -> bytes:
    """A roster of `count` distinct workers with valid ID numbers and 138 phone numbers."""
    from certify.core.idcard import make_id_number

    lines = ["姓名,证件号码,手机号码"]
    for i in range(count):
        born = date(1970, 1, 1) + timedelta(days=i % BIRTH_DAYS)
        id_number = make_id_number(REGIONS[i % len(REGIONS)], born, i // BIRTH_DAYS)
        lines.append(f"{worker_name(i)},{id_number},138{i:08d}")
    return ("\n".join(lines) + "\n").encode()


def prepare(app, workers: int, seed: int) -> int:
    """The trade, a class of `workers`, a session and a final pass each; returns the session id."""
    import flask_migrate

    from certify.banks.blueprints import load_blueprint_json
    from certify.banks.importer import import_bank
    from certify.catalog.services import TradeData, create_trade, ensure_area_path
    from certify.certificates.signing import init_keys
    from certify.core import clock
    from certify.demo import data
    from certify.extensions import db

    rng = random.Random(seed)
    with app.app_context():
        flask_migrate.upgrade()
        spec = next(t for t in data.TRADES if t["code"] == "warehouse-keeper")
        trade = create_trade(
            TradeData(
                code=spec["code"],
                name=spec["name"],
                certificate_type=spec["certificate_type"],
                levels=list(spec["levels"]),
                description=spec["description"],
            )
        )
        for path in spec["areas"]:
            ensure_area_path(trade, path)
        bank = data.BANKS_DIR / "warehouse-keeper.csv"
        import_bank(trade, bank.name, bank.read_bytes())
        blueprint = data.BANKS_DIR / "warehouse-keeper-5.blueprint.json"
        load_blueprint_json(blueprint.read_text(encoding="utf-8"), blueprint.name)
        db.session.commit()

        session, user_ids = el.open_class(
            trade, "证书压测班", roster_csv(workers), workers, minutes=90
        )
        # Published four hours on and final a minute later; the clock is frozen an hour after.
        published = clock.now() + timedelta(hours=4)
        finalized = published + timedelta(minutes=1)
        el.add_final_passes(session.id, user_ids, rng, published)
        init_keys()
        db.session.commit()
        session_id = session.id
        db.session.remove()
    clock.freeze(finalized + timedelta(hours=1))  # issuing: an hour after the results are final
    return session_id


# --- the phases ------------------------------------------------------------------------------


@dataclass
class Samples:
    bare_ms: list[float]
    html_ms: list[float]
    certificate_ms: list[float]
    bare_cpu_ms: list[float]
    certificate_cpu_ms: list[float]
    bare_pdf_bytes: int


def warm_up(app, session_id: int, count: int) -> list[int]:
    """Issue `count` certificates (not timed); returns their ids."""
    from certify.certificates.services import eligible_results, issue_certificate
    from certify.exams.models import ExamSession
    from certify.extensions import db

    ids = []
    with app.app_context():
        session = db.session.get(ExamSession, session_id)
        for result in eligible_results(session)[:count]:
            certificate = issue_certificate(result)
            db.session.commit()
            ids.append(certificate.id)
        db.session.remove()
    return ids


def sample_renders(app, certificate_ids: list[int], samples: int) -> Samples:
    """The bare page and a certificate alternately, `samples` times each."""
    from certify.certificates.models import Certificate
    from certify.certificates.render import certificate_html, render_certificate_pdf
    from certify.certificates.services import verify_url
    from certify.core.pdf import render_pdf
    from certify.extensions import db

    bare_html = BARE_PAGE.read_text(encoding="utf-8")
    out = Samples([], [], [], [], [], 0)
    with app.app_context():
        certificates = [db.session.get(Certificate, i) for i in certificate_ids]
        urls = [verify_url(c) for c in certificates]  # loads every attribute before timing
        out.bare_pdf_bytes = len(render_pdf(bare_html))  # the bare page's own warm-up
        progress = Progress("renders", samples)
        for k in range(samples):
            began, cpu = time.perf_counter(), time.process_time()
            render_pdf(bare_html)
            out.bare_ms.append((time.perf_counter() - began) * 1000)
            out.bare_cpu_ms.append((time.process_time() - cpu) * 1000)
            certificate, url = certificates[k % len(certificates)], urls[k % len(urls)]
            began = time.perf_counter()
            certificate_html(certificate, url)
            out.html_ms.append((time.perf_counter() - began) * 1000)
            began, cpu = time.perf_counter(), time.process_time()
            render_certificate_pdf(certificate, url)
            out.certificate_ms.append((time.perf_counter() - began) * 1000)
            out.certificate_cpu_ms.append((time.process_time() - cpu) * 1000)
            progress.tick(k + 1)
        db.session.remove()
    return out


@dataclass
class Batch:
    issued: int
    wall_s: float
    cpu_s: float
    per_certificate_ms: list[float]
    before: tuple[int, int] | None  # (resident, anonymous) bytes
    after: tuple[int, int] | None
    rss_trace: list[float | None]
    anon_trace: list[float | None]
    parts_ms: dict[str, float | None]
    ids: list[int]


def issue_batch(app, session_id: int, expected: int) -> Batch:
    """Issue every remaining final pass as `flask certificates issue` does.

    The steps of _issue are timed by wrapping the functions services.py calls (they still
    run, unchanged): the number, the signature, the rendering and the stored file.
    """
    from certify.certificates import services
    from certify.exams.models import ExamSession
    from certify.extensions import db

    per_certificate, ids, rss_trace, anon_trace = [], [], [], []
    trace_every = max(1, expected // 10)
    progress = Progress("batch", expected)
    watches = {
        "number": Stopwatch(services, "allocate_number"),
        "sign": Stopwatch(services, "sign_material"),
        "render": Stopwatch(services, "render_certificate_pdf"),
        "store": Stopwatch(services, "_store"),
    }

    def trace() -> None:
        sizes = statm()
        rss_trace.append(mb(sizes[0]) if sizes else None)
        anon_trace.append(mb(sizes[1]) if sizes else None)

    with app.app_context():
        session = db.session.get(ExamSession, session_id)
        before = settled_statm()
        trace()
        commit_s = 0.0
        with ExitStack() as stack:
            for watch in watches.values():
                stack.enter_context(watch)
            began = last = time.perf_counter()
            cpu = time.process_time()
            for outcome in services.issue_pending_certificates(session):
                certificate = outcome.certificate
                committing = time.perf_counter()
                db.session.commit()  # each certificate stands on its own
                now = time.perf_counter()
                commit_s += now - committing
                per_certificate.append((now - last) * 1000)
                ids.append(certificate.id)
                if len(ids) % trace_every == 0:
                    trace()
                progress.tick(len(ids))
                last = time.perf_counter()
            wall = time.perf_counter() - began
            cpu_s = time.process_time() - cpu
        db.session.remove()
    after = settled_statm()
    parts = {name: watch.mean_ms for name, watch in watches.items()}
    parts["commit"] = round(commit_s / len(ids) * 1000, 1) if ids else None
    if ids:
        known = sum(watch.seconds for watch in watches.values()) + commit_s
        parts["other"] = round((wall - known) / len(ids) * 1000, 1)
    return Batch(
        len(ids), wall, cpu_s, per_certificate, before, after, rss_trace, anon_trace, parts, ids
    )


def check_stored(app, batch_ids: list[int]) -> dict:
    """Every stored PDF against its hash; one rare-name PDF's payload, signature and fonts."""
    import sqlalchemy as sa
    from pypdf import PdfReader

    from certify.certificates.models import Certificate
    from certify.certificates.render import PAYLOAD_NAME
    from certify.certificates.services import read_pdf
    from certify.certificates.signing import public_keys, verify_signature
    from certify.extensions import db

    with app.app_context():
        certificates = db.session.scalars(sa.select(Certificate).order_by(Certificate.id)).all()
        in_batch = set(batch_ids)
        sizes, rare_in_batch, bad_hash = [], 0, 0
        for certificate in certificates:
            try:
                read_pdf(certificate)
            except Exception:
                bad_hash += 1
            if certificate.id in in_batch:
                sizes.append(certificate.pdf_bytes)
                rare_in_batch += is_rare(certificate.holder_name)
        sample = next((c for c in certificates if "䶮" in c.holder_name), certificates[0])
        reader = PdfReader(io.BytesIO(read_pdf(sample)))
        payload = json.loads(reader.attachments[PAYLOAD_NAME][0])
        signature_ok = payload["material"] == sample.material() and verify_signature(
            payload["material"], payload["key_id"], payload["signature"], public_keys()
        )
        fonts = sorted(
            {
                str(font.get_object()["/BaseFont"]).split("+", 1)[-1]
                for page in reader.pages
                for font in page["/Resources"].get("/Font", {}).values()
            }
        )
        result = {
            "sizes": sizes,
            "stored": len(certificates),
            "hash_mismatches": bad_hash,
            "rare_names": sum(is_rare(c.holder_name) for c in certificates),
            "rare_names_in_batch": rare_in_batch,
            "sample": sample.holder_name,
            "sample_pages": len(reader.pages),
            "sample_signature_ok": signature_ok,
            "sample_fonts": fonts,
        }
        db.session.remove()
        db.engine.dispose()  # the SQLite file is closed before its folder is removed or kept
    return result


# --- the run ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--batch", type=int, default=1000, help="certificates issued in the timed batch (1000)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=20,
        help="certificates issued before anything is timed; they are also the render samples (20)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=30,
        help="renders of the bare page and of a certificate, alternately, for render_ratio (30)",
    )
    parser.add_argument(
        "--keep-dir",
        type=Path,
        help="keep the instance folder (SQLite file, keys, PDFs) in this new folder",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed for the scores (1)")
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= 100_000:
        parser.error("--batch is 1 to 100000")
    if not 1 <= args.warmup <= 1000 or not 1 <= args.samples <= 10_000:
        parser.error("--warmup is 1 to 1000 and --samples 1 to 10000")
    if args.keep_dir is not None and args.keep_dir.exists():
        parser.error(f"--keep-dir {args.keep_dir} exists; name a new folder")
    return args


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace, tmp_path: Path) -> dict:
    import weasyprint

    from certify import create_app
    from certify.config import load_settings

    began = time.monotonic()
    load_before = round(os.getloadavg()[0], 2)  # other work on the machine shows here
    instance = tmp_path / "instance"
    # An explicit environment, not os.environ: no DATABASE_URL or issuer settings from outside.
    env = {
        "CERTIFY_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
        "BASE_URL": el.BENCH_BASE_URL,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'certify-bench.db'}",
        "CERTIFY_INSTANCE_PATH": str(instance),
        "CERTIFICATE_DIR": str(instance / "certificates"),
    }
    workers = args.warmup + args.batch
    print(f"Set-up: {workers} workers on a temporary SQLite file", file=sys.stderr, flush=True)
    app = create_app(load_settings(env))
    session_id = prepare(app, workers, args.seed)
    setup_s = time.monotonic() - began
    print(f"Set-up done in {setup_s:.1f} s", file=sys.stderr, flush=True)

    phase = time.monotonic()
    print(f"Warm-up: issuing {args.warmup} certificates ...", file=sys.stderr, flush=True)
    warm_ids = warm_up(app, session_id, args.warmup)
    warmup_s = time.monotonic() - phase
    # Flask, SQLAlchemy, WeasyPrint and the app stay for the whole run: keep them out of
    # the collector's way, as the exam benchmark does.
    gc.collect()
    gc.freeze()

    phase = time.monotonic()
    print(f"Rendering: {args.samples} bare pages and certificates ...", file=sys.stderr)
    samples = sample_renders(app, warm_ids, args.samples)
    renders_s = time.monotonic() - phase

    print(f"Batch: issuing {args.batch} certificates ...", file=sys.stderr, flush=True)
    batch = issue_batch(app, session_id, args.batch)
    stored = check_stored(app, batch.ids)

    bare_ms, certificate_ms = mean(samples.bare_ms), mean(samples.certificate_ms)
    render_ratio = round(certificate_ms / bare_ms, 2) if bare_ms else None
    sizes = stored["sizes"]
    pdf_kb = round(statistics.fmean(sizes) / 1024, 1) if sizes else None
    measured = batch.before is not None and batch.after is not None
    growth = mb(batch.after[0] - batch.before[0]) if measured else None
    anon_growth = mb(batch.after[1] - batch.before[1]) if measured else None
    bare_cpu, certificate_cpu = mean(samples.bare_cpu_ms), mean(samples.certificate_cpu_ms)
    batch_key = f"batch_{args.batch}_s"
    result: dict = {
        "render_ratio": render_ratio,
        batch_key: round(batch.wall_s, 1),
    }
    if args.batch != 1000:
        result["batch_n"] = args.batch
    result |= {
        "pdf_kb": pdf_kb,
        "memory_growth_mb": growth,
        "targets_met": {
            "render_ratio": render_ratio is not None and render_ratio <= TARGET_RENDER_RATIO,
            "pdf_kb": pdf_kb is not None and pdf_kb <= TARGET_PDF_KB,
        },
        "bare_ms": bare_ms,
        "bare_p95_ms": percentile(samples.bare_ms, 95),
        "certificate_render_ms": certificate_ms,
        "certificate_render_p95_ms": percentile(samples.certificate_ms, 95),
        "certificate_html_ms": mean(samples.html_ms),
        "bare_cpu_ms": bare_cpu,
        "certificate_render_cpu_ms": certificate_cpu,
        "render_ratio_cpu": round(certificate_cpu / bare_cpu, 2) if bare_cpu else None,
        "render_samples": args.samples,
        "issued": batch.issued,
        "per_certificate_ms": mean(batch.per_certificate_ms),
        "per_certificate_p50_ms": percentile(batch.per_certificate_ms, 50),
        "per_certificate_p95_ms": percentile(batch.per_certificate_ms, 95),
        "per_certificate_max_ms": percentile(batch.per_certificate_ms, 100),
        "per_certificate_parts_ms": batch.parts_ms,
        "certificates_per_s": round(batch.issued / batch.wall_s, 2) if batch.wall_s else None,
        "batch_cpu_s": round(batch.cpu_s, 1),
        "pdf_kb_min": round(min(sizes) / 1024, 1) if sizes else None,
        "pdf_kb_max": round(max(sizes) / 1024, 1) if sizes else None,
        "bare_pdf_kb": round(samples.bare_pdf_bytes / 1024, 1),
        "memory_method": "/proc/self/statm resident pages, after gc.collect(), before and "
        "after the batch",
        "anon_growth_mb": anon_growth,
        "rss_before_mb": mb(batch.before[0]) if batch.before else None,
        "rss_after_mb": mb(batch.after[0]) if batch.after else None,
        "rss_peak_mb": mb(rss_peak_bytes()),
        "rss_trace_mb": batch.rss_trace,
        "anon_trace_mb": batch.anon_trace,
        "warmup": args.warmup,
        "rare_names": stored["rare_names"],
        "rare_names_in_batch": stored["rare_names_in_batch"],
        "rare_chars": RARE_CHARS,
        "stored_pdfs": stored["stored"],
        "hash_mismatches": stored["hash_mismatches"],
        "sample_holder": stored["sample"],
        "sample_pages": stored["sample_pages"],
        "sample_signature_ok": stored["sample_signature_ok"],
        "sample_fonts": stored["sample_fonts"],
        "database": "sqlite",
        "python": platform.python_version(),
        "weasyprint": weasyprint.__version__,
        "cores": os.cpu_count(),
        "load_average": [load_before, round(os.getloadavg()[0], 2)],
        "setup_s": round(setup_s, 1),
        "warmup_s": round(warmup_s, 1),
        "renders_s": round(renders_s, 1),
        "duration_s": round(time.monotonic() - began, 1),
    }
    print(
        f"bare page:    mean {bare_ms} ms, p95 {result['bare_p95_ms']} ms "
        f"({result['bare_pdf_kb']} KB)"
    )
    print(
        f"certificate:  mean {certificate_ms} ms, p95 {result['certificate_render_p95_ms']} ms "
        f"(HTML and QR {result['certificate_html_ms']} ms); ratio {render_ratio}"
    )
    print(
        f"batch:        {batch.issued} issued in {batch.wall_s:.1f} s, "
        f"{result['per_certificate_ms']} ms each (p95 {result['per_certificate_p95_ms']} ms), "
        f"PDF {pdf_kb} KB on average, RSS +{growth} MB (anonymous +{anon_growth} MB)"
    )
    print(f"each:         {batch.parts_ms} ms")
    print(
        f"stored:       {stored['stored']} PDFs, {stored['hash_mismatches']} hash mismatches, "
        f"{stored['rare_names']} rare names; {stored['sample']}: signature "
        f"{'valid' if stored['sample_signature_ok'] else 'INVALID'}, fonts "
        f"{', '.join(stored['sample_fonts'])}"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    from certify.core import clock

    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    tmp_path = Path(tempfile.mkdtemp(prefix="certify-bench-"))
    try:
        result = run(args, tmp_path)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    finally:
        clock.unfreeze()
        if args.keep_dir is not None and tmp_path.exists():
            shutil.move(str(tmp_path), str(args.keep_dir))
            print(f"Kept the instance folder in {args.keep_dir}", file=sys.stderr)
        else:
            shutil.rmtree(tmp_path, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
