"""The data manager's web page: case list, case form, save, mark ready, conflicts, login.

Starlette + Jinja2, served by uvicorn: small, well kept, no build step, and every asset is
served from the package (no CDN). Endpoints are ``async`` and call the store directly, so
all store access runs on the one event-loop thread (SQLite connections are not shared
across threads while a request runs).

Store work runs off the event loop, one request at a time on a worker thread (the one SQLite
connection is never used by two requests at once), with a bounded wait for a store another
program is writing: past ``web.store_wait_seconds`` the answer is 503 "the store is busy",
while other pages (login, static files, the Host check) keep answering.

Security: only the Host names the server was bound for are served (DNS rebinding); bodies
are read in chunks up to a cap (413 past it); failed sign-ins are throttled per user and per
address, and scrypt runs off the loop, also for unknown users (same time, so a sign-in does
not reveal who exists); the case form carries a version so that a stale form is refused.
Every form carries the session's CSRF token (always, also on loopback) and a
cross-origin ``Origin`` is refused; bound to anything but loopback the page requires a
signed-in user from ``web.users``. Error pages show ``public_message`` only: no file names.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import anyio
import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from printharvest.app import App
from printharvest.cases.display import CLINICAL_LABEL, HARVESTABLE_LABEL, local_time, split_missing
from printharvest.cases.model import CASE_STATUSES
from printharvest.cases.service import RESEND_STATUSES
from printharvest.cases.words import fact_words
from printharvest.dictionary.validation import CaseNotReadyError, expected
from printharvest.dictionary.values import display_value, format_value, value_label
from printharvest.exceptions import (
    ConfigError,
    PrintharvestError,
    RecordNotFoundError,
    StoreError,
    ValidationError,
)
from printharvest.ledger.cost import case_total
from printharvest.ledger.lots import lots_of
from printharvest.store.case_list import SORTS, CaseQuery, filter_choices, find_cases
from printharvest.web.auth import (
    COOKIE,
    Session,
    Sessions,
    check_user_hashes,
    csrf_ok,
    hash_password,
    is_loopback,
    verify_password,
)
from printharvest.web.forms import (
    EXTRA_LIST,
    FIELD_LIST,
    FieldView,
    SectionView,
    build_form,
    changes,
    is_local_hint,
    read_form,
)
from printharvest.web.guards import (
    VERSION_FIELD,
    HostGuard,
    LoginThrottle,
    RequestTooLargeError,
    allowed_hosts,
    case_version,
    read_capped,
)
from printharvest.web.lab_filter import FIELD_PARAM, VALUE_PARAM, lab_elements, lab_where
from printharvest.web.report_page import report_response

HERE = Path(__file__).resolve().parent
MAX_FORM_BYTES = 1_000_000
PAGE_SIZE = 50
log = logging.getLogger("printharvest.web")
Handler = Callable[[Request], Awaitable[Response]]


class WebApp:
    """One served home: settings, sessions and the Starlette application."""

    def __init__(self, app: App, host: str) -> None:
        web = app.home.config.web
        self.app = app
        self.host = host
        self.login_required = not is_loopback(host)
        if self.login_required and not web.users:
            raise ConfigError(f"serving on {host} needs a login: add a user under web.users "
                              "in printharvest.yaml (printharvest users hash NAME), or "
                              "serve on 127.0.0.1")
        check_user_hashes(web.users)
        self.show_paths = web.show_paths == "always" or (
            web.show_paths == "loopback" and not self.login_required)
        self.sessions = Sessions(lifetime_s=web.session_minutes * 60.0)
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"),
                               autoescape=select_autoescape(["html"]))
        self.env.globals["format_value"] = format_value
        self.env.globals["expected"] = expected
        self.env.globals["missing_labels"] = (CLINICAL_LABEL, HARVESTABLE_LABEL)
        self.env.globals["display_value"] = display_value
        self.env.globals["value_label"] = value_label
        self.env.filters["local_time"] = local_time
        self.env.filters["q"] = lambda text: quote(str(text))
        self.env.filters["query"] = lambda values: urlencode(values)
        self.allowed_hosts = allowed_hosts(host, [web.host, *web.allowed_hosts])
        self.throttle = LoginThrottle()
        # Unknown users are checked against this hash (same scrypt cost as the configured
        # ones), so a failed sign-in takes as long whether or not the user exists.
        self._decoy: str | None = None
        self.store_wait_s = web.store_wait_seconds
        self._store_lane: anyio.CapacityLimiter | None = None

    def starlette(self) -> Starlette:
        """The ASGI application."""
        routes = [
            Route("/", self._guard(self.case_list)),
            Route("/cases/{case_id:int}", self._guard(self.case_page), methods=["GET"]),
            Route("/cases/{case_id:int}", self._guard(self.save_case), methods=["POST"]),
            Route("/cases/{case_id:int}/ready", self._guard(self.save_case), methods=["POST"]),
            Route("/cases/{case_id:int}/resolve", self._guard(self.resolve), methods=["POST"]),
            Route("/report", self._guard(self.report), methods=["GET"]),
            Route("/report.csv", self._guard(self.report_csv), methods=["GET"]),
            Route("/login", self._guard(self.login_page, public=True, store=False),
                  methods=["GET"]),
            Route("/login", self._guard(self.login, public=True, store=False),
                  methods=["POST"]),
            Route("/logout", self._guard(self.logout, store=False), methods=["POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
        guard = Middleware(HostGuard, allowed=self.allowed_hosts,
                           off_loopback=self.login_required)
        return Starlette(routes=routes, middleware=[guard])

    async def _run_in_store_lane(self, handler: Callable[[Request, Session],
                                                         Awaitable[Response]],
                                 request: Request, session: Session) -> Response:
        """Run a store-using handler on the store's worker thread (one at a time), with
        the store's busy wait bounded for this page."""
        if self._store_lane is None:
            self._store_lane = anyio.CapacityLimiter(1)

        def run() -> Response:
            conn = self.app.store.conn
            conn.execute(f"PRAGMA busy_timeout = {int(self.store_wait_s * 1000)}")
            return asyncio.run(handler(request, session))  # type: ignore[arg-type]

        return await anyio.to_thread.run_sync(run, limiter=self._store_lane)

    # -- plumbing -----------------------------------------------------------------------

    def _guard(self, handler: Callable[[Request, Session], Awaitable[Response]],
               public: bool = False, store: bool = True) -> Handler:
        """Session, login, CSRF and error handling around one endpoint (run in the store
        lane unless ``store`` is False)."""

        async def endpoint(request: Request) -> Response:
            session = self.sessions.get(request.cookies.get(COOKIE))
            fresh = session is None
            if session is None:
                session = self.sessions.new(None if self.login_required else "local")
            if self.login_required and session.user is None and not public:
                response: Response = RedirectResponse(
                    "/login?next=" + quote(request.url.path), status_code=303)
            else:
                try:
                    if request.method == "POST" and not await self._post_ok(request, session):
                        response = self._page(
                            request, session, "error.html", code=403,
                            message="This form is out of date or came from another "
                                    "site. Reload the page and try again.")
                    elif store:
                        response = await self._run_in_store_lane(handler, request, session)
                    else:
                        response = await handler(request, session)
                except RequestTooLargeError:
                    response = self._page(request, session, "error.html", code=413,
                                          message="That form is too large to accept.")
                    response.headers["connection"] = "close"
                except (StoreError, sqlite3.OperationalError) as exc:
                    if _store_busy(exc):
                        response = self._busy(request, session)
                    else:
                        log.error("web request failed: %s", exc)
                        response = self._page(request, session, "error.html", code=500,
                                              message=str(exc) if self.show_paths else
                                              "The server could not do that; the terminal "
                                              "running printharvest says why.")
                except RecordNotFoundError as exc:
                    response = self._page(request, session, "error.html", code=404,
                                          message=exc.public_message)
                except ValidationError as exc:
                    response = self._page(request, session, "error.html", code=400,
                                          message=exc.public_message)
                except PrintharvestError as exc:
                    # Store and configuration errors may name local files: only the lab's
                    # own loopback page shows them; elsewhere the terminal has the details.
                    log.error("web request failed: %s", exc)
                    response = self._page(request, session, "error.html", code=500,
                                          message=exc.public_message if self.show_paths else
                                          "The server could not do that; the terminal "
                                          "running printharvest says why.")
                except Exception:  # never a traceback or a path in the browser
                    log.exception("web request failed")
                    response = self._page(request, session, "error.html", code=500,
                                          message="Something went wrong on the server; the "
                                                  "terminal running printharvest says what.")
            if fresh and "set-cookie" not in response.headers:
                response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict",
                                    secure=request.url.scheme == "https")
            for key, value in _SECURITY_HEADERS.items():
                response.headers.setdefault(key, value)
            return response

        return endpoint

    def _busy(self, request: Request, session: Session) -> Response:
        log.warning("web request waited %.0f s for a busy store", self.store_wait_s)
        response = self._page(request, session, "error.html", code=503,
                              message="The store is busy (another printharvest program is "
                                      "writing to it). Nothing was changed; try again in a "
                                      "moment.")
        response.headers["retry-after"] = "5"
        return response

    async def _post_ok(self, request: Request, session: Session) -> bool:
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = request.headers.get("host", "")
            if urlsplit(origin).netloc != host:
                return False
        form = await self._form(request)
        request.state.form = form
        submitted = form.get("csrf")
        return csrf_ok(session, submitted[0] if submitted else None)

    async def _form(self, request: Request) -> dict[str, list[str]]:
        body = await read_capped(request, MAX_FORM_BYTES)
        return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)

    def _page(self, request: Request, session: Session, template: str, code: int = 200,
              **context: Any) -> HTMLResponse:
        context.update(session=session, login_required=self.login_required,
                       statuses=CASE_STATUSES, path=request.url.path)
        html = self.env.get_template(template).render(**context)
        return HTMLResponse(html, status_code=code)

    # -- pages --------------------------------------------------------------------------

    async def case_list(self, request: Request, session: Session) -> Response:
        """Cases with counts per status; filters (status, month, organ system, printer, a lab
        field's value), a search box, sorting and pages: only the shown page's cases are
        read."""
        params = request.query_params
        status = params.get("status") or None
        if status not in (None, *CASE_STATUSES):
            status = None
        search = params.get("q", "").strip()
        choices = filter_choices(self.app.store)

        def chosen(name: str) -> str | None:
            value = params.get(name) or None
            return value if value in choices[name] else None

        sort = params.get("sort", "id")
        try:
            page = max(1, int(params.get("page", "1")))
        except ValueError:
            page = 1
        lab = next(iter(lab_where(params, self.app.dictionary).items()), (None, None))
        query = CaseQuery(status=status, search=search or None, month=chosen("month"),
                          organ_system=chosen("organ_system"), printer=chosen("printer"),
                          field=lab[0], value=lab[1],
                          sort=sort if sort in SORTS else "id",
                          descending=params.get("dir") == "desc", page=page,
                          per_page=PAGE_SIZE)
        found = find_cases(self.app.store, query)
        service = self.app.cases
        rows = []
        for case_id in found.ids:
            case = service.get(case_id)
            missing = split_missing(case, self.app.dictionary)
            rows.append((case, len(missing.clinical), len(missing.harvestable)))
        organ = self.app.dictionary.element("imaging.organ_system")
        organs = [(v, value_label(organ, v) if organ and v in organ.values else v)
                  for v in choices["organ_system"]]
        pages = max(1, -(-found.total // PAGE_SIZE))
        keep = {k: v for k, v in (("status", status), ("q", search), ("month", query.month),
                                  ("organ_system", query.organ_system),
                                  ("printer", query.printer), (FIELD_PARAM, query.field),
                                  (VALUE_PARAM, query.value), ("sort", query.sort),
                                  ("dir", "desc" if query.descending else "")) if v}
        return self._page(request, session, "list.html", rows=rows, counts=service.counts(),
                          status=status, search=search, query=query, total=found.total,
                          page=min(page, pages), pages=pages, choices=choices, organs=organs,
                          keep=keep, dictionary=self.app.dictionary.dictionary,
                          lab_fields=lab_elements(self.app.dictionary),
                          lab_field=params.get(FIELD_PARAM, ""),
                          lab_value=params.get(VALUE_PARAM, ""))

    async def case_page(self, request: Request, session: Session, status: int = 200,
                        **extra: Any) -> Response:
        """One case in the registry form's order."""
        case_id = int(request.path_params["case_id"])
        service = self.app.cases
        case = service.get(case_id)
        problems = service.validate(case_id)
        message = request.query_params.get("m", "")
        typed = extra.pop("typed", None)
        # Opened, not yet saved or checked: what is missing is a calm list, not red fields.
        calm = typed is None and message not in ("refused", "saved")
        sections = build_form(self.app.dictionary, case, problems, self.show_paths,
                              typed, extra.pop("errors", None),
                              home=str(self.app.home.root), calm=calm)
        # Harvested facts that are not dictionary elements (print time, material used,
        # volume, prints beyond the limit): shown for the lab, never sent to the registry.
        # Segment names are local hints shown in their part (where paths may be shown).
        facts = [fact_words(name, fv.value) for name, fv in case.fields.items()
                 if self.app.dictionary.resolve(name) is None and not is_local_hint(name)]
        flash, kind = _FLASH.get(message, (None, "good"))
        flash = extra.pop("flash", flash)
        kind = extra.pop("flash_kind", kind)
        missing = [f for s in sections for f in _all_fields(s) if f.missing]
        invalid = [f for s in sections for f in _all_fields(s) if f.problem]
        library = {p.label: {"manufacturer": p.manufacturer, "model": p.model,
                             "technology": p.technology}
                   for p in self.app.rules.printers.library}
        ledger = self.app.home.config.ledger
        cost = case_total(case, self.app.rules, ledger).text(ledger.currency)
        lots = sorted({lot for r in case.records for lot in lots_of(r)})
        return self._page(request, session, "case.html", code=status,
                          case=case, version=case_version(case),
                          sections=sections, problems=problems, facts=facts,
                          cost=cost, lots=lots,
                          flash=flash, flash_kind=kind, field_list=FIELD_LIST,
                          extra_list=EXTRA_LIST, missing=missing, invalid=invalid,
                          calm=calm, saved=message in ("saved", "ready"),
                          unsaved=typed is not None,
                          resend=case.status in RESEND_STATUSES,
                          reason=extra.pop("reason", ""),
                          printers=list(library),
                          printer_data=json.dumps(library).replace("<", "\\u003c"),
                          dictionary=self.app.dictionary.dictionary)

    async def save_case(self, request: Request, session: Session) -> Response:
        """Store what was typed (text of the wrong type or a value that is not allowed is
        shown back, not saved); with "mark ready", save first, then check."""
        case_id = int(request.path_params["case_id"])
        form = request.state.form
        want_ready = (form.get("_action") or [""])[0] == "ready" or request.url.path.endswith(
            "/ready")
        typed, errors = read_form(self.app.dictionary, form)
        good = {k: v for k, v in typed.items() if k not in errors}
        self._fill_from_library(good)
        reason = (form.get("reason") or [""])[0].strip()
        service = self.app.cases
        current = service.get(case_id)
        posted = (request.state.form.get(VERSION_FIELD) or [None])[0]
        if posted is not None and posted != case_version(current):
            # Another browser (or a harvest) changed the case since this form was built:
            # saving it would silently revert that edit. Show the case as it is now.
            return await self.case_page(
                request, session, status=409,
                flash="Not saved: this case was changed elsewhere since you opened it. "
                      "It is shown below as it is now; enter your changes again.")
        todo = changes(current, good)
        if todo:
            try:
                service.set_values(case_id, todo, actor(session), reason or None)
            except ValidationError as exc:
                if exc.element != "reason":
                    raise
                return await self.case_page(
                    request, session, typed=typed, errors=errors, status=422,
                    flash_kind="bad", reason=reason,
                    flash="Nothing was saved: this case is with the registry, and a change "
                          "sends it again as an update. Say why below, then save again.")
        if errors:
            return await self.case_page(
                request, session, typed=typed, errors=errors, status=422, flash_kind="bad",
                flash=("Not marked ready: " if want_ready else "")
                + f"{len(errors)} value(s) were not saved: see the fields marked below.")
        if want_ready:
            try:
                service.mark_ready(case_id, actor(session))
            except CaseNotReadyError:
                return RedirectResponse(f"/cases/{case_id}?m=refused", status_code=303)
            return RedirectResponse(f"/cases/{case_id}?m=ready", status_code=303)
        return RedirectResponse(f"/cases/{case_id}?m=saved", status_code=303)

    def _fill_from_library(self, values: dict[str, Any]) -> None:
        """A printer label from the lab's library fills the print's manufacturer, model and
        technology where the form left them empty (the page's script does it as you type;
        this is the same rule without a script)."""
        library = {p.label: p for p in self.app.rules.printers.library}
        for name, label in list(values.items()):
            if not name.endswith(".printer_label") or label not in library:
                continue
            entry, prefix = library[label], name.rsplit(".", 1)[0]
            for short, value in (("printer_manufacturer", entry.manufacturer),
                                 ("printer_model", entry.model),
                                 ("technology", entry.technology)):
                if value and (prefix + "." + short) in values \
                        and values[prefix + "." + short] is None:
                    values[prefix + "." + short] = value

    async def resolve(self, request: Request, session: Session) -> Response:
        """Keep the typed value, or take the harvested one."""
        case_id = int(request.path_params["case_id"])
        keep, _, name = (request.state.form.get("resolve") or [""])[0].partition("|")
        if keep not in ("typed", "harvested"):
            raise ValidationError("resolve", "choose keep typed or take harvested")
        self.app.cases.resolve_conflict(case_id, name, keep, actor(session))
        return RedirectResponse(f"/cases/{case_id}?m=resolved", status_code=303)

    async def report(self, request: Request, session: Session) -> Response:
        """The lab's report (same numbers as ``printharvest report``)."""
        return report_response(self.app, request, as_csv=False)

    async def report_csv(self, request: Request, session: Session) -> Response:
        """The lab's report as CSV."""
        return report_response(self.app, request, as_csv=True)

    async def login_page(self, request: Request, session: Session) -> Response:
        """The sign-in form."""
        if not self.login_required:
            return RedirectResponse("/", status_code=303)
        return self._page(request, session, "login.html", next=_safe_next(request))

    async def login(self, request: Request, session: Session) -> Response:
        """Check a user's password; a new session on success."""
        form = request.state.form
        name = (form.get("username") or [""])[0]
        password = (form.get("password") or [""])[0]
        address = request.client.host if request.client else "?"
        keys = (f"user:{name.casefold()}", f"addr:{address}")
        wait = self.throttle.wait_s(*keys)
        if wait > 0:
            response: Response = self._page(request, session, "login.html", code=429,
                                  next=_safe_next(request),
                                  error=f"Too many failed sign-ins; wait {int(wait) + 1} s "
                                        "and try again.")
            response.headers["retry-after"] = str(int(wait) + 1)
            return response
        users = self.app.home.config.web.users
        stored = users.get(name)
        if stored is None:
            if self._decoy is None:
                self._decoy = _decoy_hash(users)
            stored = self._decoy
        # scrypt takes tens of milliseconds: off the event loop, and for unknown users too.
        good = await anyio.to_thread.run_sync(verify_password, password, stored)
        if not good or name not in users:
            self.throttle.failed(*keys)
            return self._page(request, session, "login.html", code=401,
                              next=_safe_next(request), error="Wrong user name or password.")
        self.throttle.succeeded(keys[0])
        self.sessions.drop(session.token)
        fresh = self.sessions.new(name)
        response = RedirectResponse(_safe_next(request), status_code=303)
        response.set_cookie(COOKIE, fresh.token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    async def logout(self, request: Request, session: Session) -> Response:
        """End the session."""
        self.sessions.drop(session.token)
        response = RedirectResponse("/login" if self.login_required else "/", status_code=303)
        response.delete_cookie(COOKIE)
        return response


_FLASH = {"saved": ("Saved.", "good"), "ready": ("Saved and marked ready.", "good"),
          "refused": ("Saved, but not ready yet: fix or fill the fields listed below.", "bad"),
          "resolved": ("Conflict resolved.", "good")}


def _all_fields(section: SectionView) -> list[FieldView]:
    result: list[FieldView] = []
    for item in section.items:
        if isinstance(item, FieldView):
            result.append(item)
        else:
            result.extend(f for inst in item.instances if not inst.extra for f in inst.fields)
    return result


def _store_busy(exc: BaseException) -> bool:
    """True when ``exc`` says the store was locked by another writer past the wait."""
    return "locked" in str(exc) or "busy" in str(exc)


def _decoy_hash(users: dict[str, str]) -> str:
    """A hash with the configured users' scrypt cost, for checking unknown user names."""
    for stored in users.values():
        _scheme, n, r, p, _salt, _digest = stored.split("$")
        return hash_password(secrets.token_urlsafe(16), n=int(n), r=int(r), p=int(p))
    return hash_password(secrets.token_urlsafe(16))


def actor(session: Session) -> str:
    """The audit log's name for whoever is signed in."""
    return f"web:{session.user or 'local'}"


def _safe_next(request: Request) -> str:
    target = request.query_params.get("next") or "/"
    form = getattr(request.state, "form", None)
    if form and form.get("next"):
        target = form["next"][0]
    # Only a local path: never an open redirect.
    return target if target.startswith("/") and not target.startswith("//") else "/"


_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(app: App, host: str = "127.0.0.1") -> Starlette:
    """The ASGI application for ``app``'s home, as served on ``host``."""
    return WebApp(app, host).starlette()
