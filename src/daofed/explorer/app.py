"""The explorer's web app: server-rendered pages of one federation, and a JSON API.

Read-only by construction: it holds no key and sends no transaction; the only action
is verification, which reads. Every string from the chain or a blob (a CID, a rule, a
proposal's text) reaches the page through Jinja2's autoescaping, and a content security
policy allows no script but the explorer's own files, so a member who writes markup
into a CID gets it shown as text. Requests naming another host are refused, so a web
page the auditor visits cannot reach the explorer through DNS rebinding.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from daofed.audit import AuditReport, AuditSource
from daofed.chain.checks import MAX_SAMPLES_LIMIT
from daofed.explorer import views
from daofed.explorer.follow import Evaluator, Follower, Snapshot
from daofed.explorer.verification import JobState, VerifyJob
from daofed.jsonable import to_jsonable
from daofed.learning import load_task
from daofed.learning.task import Task

_HERE = Path(str(files("daofed.explorer")))
CHART_LIBRARY = _HERE / "static" / "vendor" / "chart.umd.js"
"""Chart.js from the npm registry, copied here by scripts/install.sh (no CDN: offline)."""

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


class Explorer:
    """The app's state: the follower's snapshot, the verify job and a change counter.

    ``version`` grows whenever what a page shows may have changed (a new block, a
    verification finished): the page's script polls it and re-renders on a change.
    """

    def __init__(self, source: AuditSource, poll_interval: float, evaluator: Evaluator) -> None:
        self.source = source
        self._lock = threading.Lock()
        self.version = 0
        self.follower = Follower(
            source, evaluator, poll_interval=poll_interval, on_change=self._changed
        )
        self.job = VerifyJob(source.federation, source.store, on_finish=self._changed)

    def _changed(self) -> None:
        with self._lock:
            self.version += 1

    @property
    def snapshot(self) -> Snapshot:
        """The latest snapshot of the federation."""
        return self.follower.snapshot


def create_app(
    source: AuditSource,
    *,
    poll_interval: float = 1.0,
    host: str = "127.0.0.1",
    task: Task[Any] | str | None = None,
    test_data: Path | None = None,
) -> Starlette:
    """Build the explorer of ``source``'s federation; it follows the chain while it serves.

    ``host`` is the address the explorer is bound to: requests must name it (or
    ``localhost``), unless it listens on every interface (``0.0.0.0``). ``task`` and
    ``test_data`` choose how models are scored, as for :func:`~daofed.audit.run_audit`.
    """
    chosen = load_task(task) if isinstance(task, str) else task  # a bad spec fails now, once
    explorer = Explorer(source, poll_interval, Evaluator(chosen, test_data))
    templates = _templates()

    def page(name: str, request: Request, **context: Any) -> HTMLResponse:
        snapshot = explorer.snapshot
        history = snapshot.history
        html = templates.get_template(name).render(
            request=request,
            snapshot=snapshot,
            history=history,
            # the next block is stamped at least this: deadlines count down from it
            now=max(history.latest_timestamp, int(time.time())) if history else None,
            version=explorer.version,
            job=explorer.job.progress,
            verdicts=views.verdicts(explorer.job.progress.verification),
            charts=CHART_LIBRARY.is_file(),
            max_samples_limit=MAX_SAMPLES_LIMIT,
            **context,
        )
        return HTMLResponse(html)

    def overview(request: Request) -> Response:
        history = explorer.snapshot.history
        if history is None:
            return page("overview.html", request)
        current = history.rounds[-1]
        return page(
            "overview.html",
            request,
            members=views.member_rows(history),
            heatmap=views.heatmap(history),
            config=views.config_of(history, current.config_version),
            current=current,
        )

    def rounds(request: Request) -> Response:
        history = explorer.snapshot.history
        if history is None:
            return page("rounds.html", request)
        number = _int(request.query_params.get("page"), 1)
        verification = explorer.job.progress.verification
        checked = verification.rounds if verification is not None else ()
        return page(
            "rounds.html",
            request,
            page=views.timeline_page(history, number),
            page_of=lambda r: views.page_of(history, r),
            exclusions={r.round: r.exclusions for r in checked},
            findings={r.round: [f.message for f in r.findings] for r in checked},
        )

    def proposals(request: Request) -> Response:
        return page("proposals.html", request)

    def head(_: Request) -> Response:
        snapshot = explorer.snapshot
        return JSONResponse(
            {"block": snapshot.block, "version": explorer.version, "problem": snapshot.problem}
        )

    def audit(_: Request) -> Response:
        snapshot, progress = explorer.snapshot, explorer.job.progress
        if snapshot.history is None:
            return JSONResponse({"error": snapshot.problem or "not read yet"}, status_code=503)
        verified = progress.state is JobState.DONE and progress.block == snapshot.block
        report = AuditReport(
            history=snapshot.history,
            code=progress.code if verified else None,
            verification=progress.verification if verified else None,
            evaluation=snapshot.evaluation,
            plot=None,
            unevaluated=snapshot.unevaluated,
        )
        return JSONResponse(report.to_json())

    def charts(_: Request) -> Response:
        snapshot = explorer.snapshot
        return JSONResponse(views.chart_data(snapshot.history, snapshot.evaluation, snapshot.gas))

    def verify(request: Request) -> Response:
        if request.method == "POST":
            if not _same_origin(request):
                return JSONResponse({"error": "cross-origin request refused"}, status_code=403)
            history = explorer.snapshot.history
            if history is None:
                return JSONResponse({"error": "the history is not read yet"}, status_code=409)
            explorer.job.start(history)
        return JSONResponse(_progress_json(explorer))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        explorer.follower.start()
        try:
            yield
        finally:
            explorer.follower.stop()

    app = Starlette(
        routes=[
            Route("/", overview),
            Route("/rounds", rounds),
            Route("/proposals", proposals),
            Route("/api/head", head),
            Route("/api/audit", audit),
            Route("/api/charts", charts),
            Route("/api/verify", verify, methods=["GET", "POST"]),
            Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
        ],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=_allowed_hosts(host)),
            Middleware(_SecurityHeaders),
        ],
        lifespan=lifespan,
    )
    app.state.explorer = explorer
    return app


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["hex"] = lambda digest: to_jsonable(digest) if digest else ""  # as the API
    env.filters["short"] = lambda digest: f"{digest.hex()[:12]}…" if digest else ""
    env.filters["addr"] = lambda address: f"{address[:6]}…{address[-4:]}" if address else ""
    env.filters["utc"] = lambda seconds: datetime.fromtimestamp(seconds, UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )
    return env


def _progress_json(explorer: Explorer) -> dict[str, Any]:
    progress = explorer.job.progress
    rounds = progress.verification.rounds if progress.verification else ()
    return {
        "state": progress.state.value,
        "done": progress.done,
        "total": progress.total,
        "block": progress.block,
        "ok": progress.ok,
        "error": progress.error,
        "code": to_jsonable(progress.code, properties=True) if progress.code else None,
        "rounds": [
            {
                "round": r.round,
                "verdict": r.verdict.value,
                "findings": [f.message for f in r.findings],
            }
            for r in rounds
        ],
    }


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _allowed_hosts(host: str) -> list[str]:
    if host in ("0.0.0.0", "::"):
        return ["*"]
    return sorted({host, "127.0.0.1", "localhost", "::1", f"[{host}]"})


def _same_origin(request: Request) -> bool:
    """Whether a state-changing request comes from the explorer's own pages (or no browser)."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


class _SecurityHeaders:
    """Add :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
