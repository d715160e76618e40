"""`benefits`: one command for every role of the platform.

Every command first makes sure the backing components are reachable: configured ones
through their environment variables, embedded ones started under var/ when down. The
resulting environment is exported to this process and to the children it spawns.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
import psutil
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from marketplace import composition  # noqa: F401  (registers the domains: catalogs, templates, actors)
from marketplace.runtime import components, processes

console = Console()


def _bring_up() -> list[components.Component]:
    with console.status("Starting components…"):
        env, started = components.ensure_up()
    os.environ.update(env)
    for component in started:
        console.print(f"[green]started[/] {component.name} ({component.status().address})")
    return started


@click.group()
def main() -> None:
    """Benefits marketplace of the trade-union federation."""


@main.group()
def services() -> None:
    """Show, start or stop the backing components (PostgreSQL, Redis, Meilisearch, Stripe)."""


@services.command("status")
def services_status() -> None:
    _print_status()


def _print_status() -> None:
    table = Table("component", "mode", "state", "address")
    for component in components.COMPONENTS:
        status = component.status()
        state = "[green]running[/]" if status.running else "[red]stopped[/]"
        table.add_row(status.name, status.mode, state, status.address)
    console.print(table)


@services.command("up")
def services_up() -> None:
    _bring_up()
    _print_status()


@services.command("down")
def services_down() -> None:
    for component in reversed(components.COMPONENTS):
        if not component.external() and component.stop():
            console.print(f"[yellow]stopped[/] {component.name}")
    _print_status()


@main.command()
def setup() -> None:
    """Install what the embedded components and the UI need (idempotent)."""
    _setup()


def _setup() -> None:
    from marketplace.runtime import downloads

    with console.status("Installing Meilisearch and static assets…"):
        downloads.download_all()
    console.print("[green]setup complete[/]")


async def _migrate() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        raise click.ClickException(f"migration failed: {result.message}")


@main.command()
def migrate() -> None:
    """Apply the database migrations of every app."""
    _bring_up()
    asyncio.run(_migrate())


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


async def _seed(members: int, providers: int, offers: int, history: bool = True):
    from marketplace import seed as seeding
    from marketplace.core import db

    await db.open_pool()
    try:
        with _progress() as progress:
            tasks: dict[str, TaskID] = {}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = progress.add_task(stage, total=total)
                progress.update(tasks[stage], completed=done, total=total)

            return await seeding.seed(
                members=members, providers=providers, offers=offers, progress=report, history=history
            )
    finally:
        await db.close_pool()


@main.command()
@click.option("--members", default=5000, show_default=True)
@click.option("--providers", default=200, show_default=True)
@click.option("--offers", default=800, show_default=True)
@click.option(
    "--history/--no-history",
    default=True,
    show_default=True,
    help="90 days of the city's history, once per database (see marketplace/seed/history.py).",
)
def seed(members: int, providers: int, offers: int, history: bool) -> None:
    """Add realistic demo data for one city (appends; the history is made once)."""
    _bring_up()
    asyncio.run(_migrate())
    started = time.perf_counter()
    report = asyncio.run(_seed(members, providers, offers, history))
    console.print(report)
    console.print(f"seeded in {time.perf_counter() - started:.1f}s")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Run the web server (member site, provider portal, operator console, JSON API)."""
    import uvicorn

    from marketplace.core.web import server

    _bring_up()
    uvicorn.run(
        "marketplace.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Proxy headers are honoured by the app, from TRUSTED_PROXIES only (marketplace/core/web/proxy.py).
        access_log=False,
        proxy_headers=False,
        # Named, not "auto": a missing wheel fails at start instead of falling back to
        # the pure-Python parser and event loop (docs/benchmarks.md, claims). httptools'
        # protocol, writing each answer in one socket write (marketplace/core/web/server.py).
        loop="uvloop",
        http=server.OneWriteHttpToolsProtocol,
    )


@main.command()
@click.option("--processes", default=1, show_default=True)
@click.option("--threads", default=4, show_default=True)
def worker(processes: int, threads: int) -> None:
    """Run the Dramatiq job worker."""
    _bring_up()
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "dramatiq",
            "marketplace.worker",
            "--processes",
            str(processes),
            "--threads",
            str(threads),
        ],
    )


@main.command()
def scheduler() -> None:
    """Run periodic jobs and the outbox relay (several may run: one leads, the others stand by)."""
    _bring_up()  # before the import: the broker reads its address when the module loads
    from marketplace.core import domains
    from marketplace.core.jobs import scheduler as periodic

    domains.load_actors()  # their consumers for the relay, their periodic jobs
    asyncio.run(periodic.run())


async def _reindex(batch_size: int = 5000) -> int:
    from catalog.search import index
    from marketplace.core import db

    await db.open_pool()
    try:
        with _progress() as progress:
            task = progress.add_task("offers", total=None)
            written = await index.reindex(
                progress=lambda done, total: progress.update(task, completed=done, total=total),
                batch_size=batch_size,
                resumed=lambda offers, documents: console.print(
                    f"resuming a reindex that stopped: {offers} offers ({documents} documents) already sent"
                ),
            )
    except index.ReindexRunning as error:
        raise click.ClickException(str(error)) from error
    finally:
        await index.close_clients()  # the documents go through its HTTP session
        await db.close_pool()
    return written


@main.command()
@click.option("--batch-size", default=5000, show_default=True, help="Offers per engine write.")
def reindex(batch_size: int) -> None:
    """Rebuild the search index beside the live one and swap it in (no downtime); a
    reindex that was stopped midway resumes where it stopped."""
    _bring_up()
    started = time.perf_counter()
    written = asyncio.run(_reindex(batch_size))
    console.print(f"indexed {written} documents in {time.perf_counter() - started:.1f}s")


@main.group()
def bench() -> None:
    """Measure the platform on the data it is pointed at (BENEFITS_VAR)."""


def _ms(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"  # NaN: nothing measured


@bench.command("search")
@click.option("--requests", default=800, show_default=True, help="Requests per query class and target.")
@click.option("--concurrency", default=16, show_default=True, help="Concurrent clients.")
@click.option(
    "--freshness", default=20, show_default=True, help="Offers and providers changed to time freshness (0: skip)."
)
@click.option("--time-limit", default=60.0, show_default=True, help="Seconds at most per class and target.")
@click.option(
    "--reindex/--no-reindex",
    default=True,
    show_default=True,
    help="Time a full reindex while searches go on (minutes at 100k offers on a loaded machine).",
)
def bench_search(requests: int, concurrency: int, freshness: int, time_limit: float, reindex: bool) -> None:
    """Search through the API and straight to Meilisearch, freshness, reindex, degraded mode."""
    from benchmarks import search as benchmark
    from benchmarks.common import percentile

    _bring_up()
    report = asyncio.run(
        benchmark.run(
            requests=requests,
            concurrency=concurrency,
            freshness=freshness,
            class_time_limit=time_limit,
            reindex=reindex,
            say=console.print,
        )
    )
    table = Table(
        "class", "target", "requests", "errors", "degraded", "p50 ms", "p95 ms", "p99 ms", "req/s", "API/engine p95"
    )
    for api, engine in report.classes:
        ratio = api.pct(95) / engine.pct(95) if engine.latencies_ms else float("nan")
        for stats in (api, engine):
            table.add_row(
                stats.name,
                stats.target,
                str(len(stats.latencies_ms)),
                str(stats.errors),
                str(stats.degraded) if stats is api else "",
                _ms(stats.pct(50)),
                _ms(stats.pct(95)),
                _ms(stats.pct(99)),
                f"{stats.rps:.0f}",
                f"{ratio:.2f}" if stats is api else "",
            )
    if report.peer is not None:
        stats, ours = report.peer, report.classes[0][0]
        table.add_row(
            stats.name,
            stats.target,
            str(len(stats.latencies_ms)),
            str(stats.errors),
            "",
            _ms(stats.pct(50)),
            _ms(stats.pct(95)),
            _ms(stats.pct(99)),
            f"{stats.rps:.0f}",
            f"peer/API {stats.pct(95) / ours.pct(95):.2f}" if ours.latencies_ms else "",
        )
    if report.degraded is not None:
        stats = report.degraded
        table.add_row(
            stats.name,
            "api",
            str(len(stats.latencies_ms)),
            str(stats.errors),
            str(stats.degraded),
            _ms(stats.pct(50)),
            _ms(stats.pct(95)),
            _ms(stats.pct(99)),
            f"{stats.rps:.0f}",
            "",
        )
    console.print(table)
    for name, cpu in report.cpu_ms.items():
        console.print(
            f"CPU per search, {name}: web process {_ms(cpu.get('web', float('nan')))} ms per API search, "
            f"Meilisearch {_ms(cpu.get('engine', float('nan')))} ms per search"
        )

    def spread(values: list[float]) -> str:
        return (
            f"p50 {_ms(percentile(values, 50))} ms, p95 {_ms(percentile(values, 95))} ms, "
            f"max {_ms(max(values, default=float('nan')))} ms"
        )

    for change in sorted(set(report.freshness_ms) | set(report.freshness_timeouts)):
        values = report.freshness_ms.get(change, [])
        console.print(
            f"freshness ({change}): {len(values)} changes, {report.freshness_timeouts.get(change, 0)} timed out; "
            f"searchable (a search started then shows it) {spread(report.freshness_searchable_ms.get(change, []))}; "
            f"answered (that search's answer) {spread(values)}"
        )
        for phase, phase_values in report.freshness_phases.get(change, {}).items():
            console.print(f"  after the commit, {phase}: {spread(phase_values)}")
    if report.freshness_load is not None:
        stats = report.freshness_load
        console.print(
            f"searches during freshness: {len(stats.latencies_ms)} answered, {stats.errors} errors, "
            f"{stats.degraded} degraded, p95 {_ms(stats.pct(95))} ms"
        )
    if report.reindex_s is not None:
        console.print(
            f"reindex: {report.reindex_documents} documents in {report.reindex_s:.1f} s; "
            f"searches meanwhile {report.reindex_queries}, failed {report.reindex_failures}, "
            f"degraded {report.reindex_degraded}"
        )
    for note in report.notes:
        console.print(f"[yellow]{note}[/]")


@bench.command("relevance")
@click.option("--misses", is_flag=True, help="List the queries whose right answers are not all in the first 3.")
def bench_relevance(misses: bool) -> None:
    """The public relevance set: recall@3, recall@10, nDCG@10 of our search and of a PostgreSQL-only peer."""
    from benchmarks.relevance import bench as benchmark

    _bring_up()
    report = asyncio.run(benchmark.run())
    console.print(f"{len(report.ours.judged)} queries on the relevance catalogue ({report.documents} documents)")
    table = Table(
        "query type", "queries", "recall@3", "recall@10", "nDCG@10", "peer recall@3", "peer recall@10", "peer nDCG@10"
    )
    for ours, peer in zip(report.ours.rows(), report.peer.rows(), strict=True):
        table.add_row(ours[0], str(ours[1]), *(f"{value:.3f}" for value in (*ours[2:], *peer[2:])))
    console.print(table)
    console.print(
        f"latency per query, in process: ours p95 {report.ours.p95_ms():.1f} ms, "
        f"PostgreSQL peer p95 {report.peer.p95_ms():.1f} ms"
    )
    if misses:
        for judged in report.ours.misses():
            console.print(
                f"[yellow]{judged.query.type} {judged.query.text}[/]: recall@3 {judged.recall_3:.2f}, "
                f"first hits {judged.found[:3]}, wanted {sorted(judged.wanted)[:4]}"
            )


@bench.command("claims")
@click.option("--attempts", default=20_000, show_default=True, help="Claim attempts per round, one per member.")
@click.option("--stock", default=1_000, show_default=True, help="Stock of the offer at the start of each round.")
@click.option("--concurrency", default=64, show_default=True, help="Concurrent clients (and SQL connections).")
@click.option("--rounds", default=10, show_default=True)
@click.option("--web-workers", default=1, show_default=True, help="uvicorn worker processes of the web app.")
@click.option(
    "--points/--no-points",
    default=True,
    show_default=True,
    help="Also the points rounds (--no-points: the flash sale alone, for a quicker measurement).",
)
@click.option(
    "--profile",
    type=click.Path(dir_okay=False, writable=True),
    help="Run the web app under cProfile and write its statistics to this file (one web worker).",
)
def bench_claims(
    attempts: int, stock: int, concurrency: int, rounds: int, web_workers: int, points: bool, profile: str | None
) -> None:
    """A flash sale of one offer: claims over HTTP against the same claims as raw SQL."""
    from benchmarks import claims as benchmark

    if profile and web_workers != 1:
        raise click.UsageError("--profile profiles one web process: leave --web-workers at 1")
    _bring_up()
    report = asyncio.run(
        benchmark.run(
            attempts=attempts,
            stock=stock,
            concurrency=concurrency,
            rounds=rounds,
            web_workers=web_workers,
            points=points,
            profile=os.path.abspath(profile) if profile else None,
            say=console.print,
        )
    )
    table = Table(
        "round",
        "vouchers",
        "stock left",
        "over limit",
        "HTTP 201/409/other",
        "API claims/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "SQL claims/s",
        "API/SQL",
        "web CPU ms/attempt",
        "load avg",
    )
    for number, result in enumerate(report.rounds, start=1):
        statuses = result.api_statuses
        other = sum(count for status, count in statuses.items() if status not in (201, 409))
        table.add_row(
            str(number),
            str(result.vouchers),
            str(result.stock_left),
            str(result.over_limit),
            f"{statuses.get(201, 0)}/{statuses.get(409, 0)}/{other}",
            f"{result.api.rps:.0f}",
            _ms(result.api.pct(50)),
            _ms(result.api.pct(95)),
            _ms(result.api.pct(99)),
            f"{result.sql.rps:.0f}",
            f"{result.ratio:.2f}",
            f"{result.cpu_ms_per_attempt:.2f}",
            f"{result.load:.1f}",
        )
    console.print(table)
    exact = all(r.vouchers == report.stock and r.stock_left == 0 and r.over_limit == 0 for r in report.rounds)
    console.print(
        f"exactly {report.stock} vouchers, none oversold, nobody over the limit in every round: "
        f"{'yes' if exact else '[red]NO[/]'}"
    )
    table = Table(
        "round",
        "spends",
        "negative balances",
        "points unspent",
        "ledger mismatches",
        "API claims/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "ledger spends/s",
        "API/ledger",
    )
    for number, points_round in enumerate(report.points_rounds, start=1):
        table.add_row(
            str(number),
            str(points_round.spent),
            str(points_round.negative),
            str(points_round.unspent),
            str(points_round.mismatched),
            f"{points_round.api.rps:.0f}",
            _ms(points_round.api.pct(50)),
            _ms(points_round.api.pct(95)),
            _ms(points_round.api.pct(99)),
            f"{points_round.sql.rps:.0f}",
            f"{points_round.ratio:.2f}",
        )
    console.print(f"points: {report.points_attempts} attempts per round on {report.points_members} members")
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]{note}[/]")


@bench.command("claim-cpu")
@click.option("--sessions", default=500, show_default=True, help="Members whose sessions make the calls.")
@click.option("--calls", default=3000, show_default=True, help="Calls per batch.")
@click.option("--batches", default=5, show_default=True)
@click.option(
    "--profile",
    type=click.Path(dir_okay=False, writable=True),
    help="Run the last batch under cProfile and write its statistics to this file.",
)
def bench_claim_cpu(sessions: int, calls: int, batches: int, profile: str | None) -> None:
    """CPU time of one refused claim in the app itself, called as ASGI (no server, no network)."""
    import marketplace
    from benchmarks import claim_cpu as benchmark

    _bring_up()
    report = asyncio.run(benchmark.run(sessions=sessions, calls=calls, batches=batches, profile=profile))
    batches_text = " ".join(f"{value:.0f}" for value in report.batches_us)
    console.print(
        f"offer {report.offer_id}: CPU µs per refused claim, by batch of {report.calls}: {batches_text}; "
        f"median {report.median_us:.0f}; answers {dict(sorted(report.statuses.items()))}; "
        f"code of {os.path.dirname(os.path.dirname(marketplace.__file__))}"
    )


@bench.command("signin")
@click.option("--seconds", default=10.0, show_default=True, help="Length of each phase.")
@click.option(
    "--signing-in",
    "loads",
    multiple=True,
    type=int,
    default=(8, 64),
    show_default=True,
    help="People signing in at once, one phase each (repeat the option).",
)
def bench_signin(seconds: float, loads: tuple[int, ...]) -> None:
    """A cheap API call's p95 idle and while 8 and 64 people sign in (password hashing)."""
    from benchmarks import signin as benchmark

    _bring_up()
    report = asyncio.run(benchmark.run(seconds=seconds, loads=loads, say=console.print))
    table = Table(
        "signing in",
        "/me calls",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p95 / idle",
        "sign-ins",
        "sign-ins/s",
        "sign-in p50 ms",
        "sign-in p95 ms",
        "failed sign-ins",
    )
    for phase in report.phases:
        signins = phase.sign_ins
        table.add_row(
            str(phase.signing_in),
            str(len(phase.call.latencies_ms)),
            _ms(phase.call.pct(50)),
            _ms(phase.call.pct(95)),
            _ms(phase.call.pct(99)),
            f"{report.ratio(phase):.2f}",
            str(len(signins.latencies_ms)),
            f"{signins.rps:.1f}",
            _ms(signins.pct(50)),
            _ms(signins.pct(95)),
            str(signins.errors),
        )
    console.print(table)
    within = all(report.ratio(phase) <= 2 for phase in report.phases)
    console.print(f"p95 within 2× of idle under every load: {'yes' if within else '[red]NO[/]'}")


@bench.command("delisting")
@click.option("--providers", "count", default=20, show_default=True, help="Providers delisted one after another.")
def bench_delisting(count: int) -> None:
    """How soon a delisted provider's offers leave search, and whether claims stop at once."""
    from benchmarks import delisting as benchmark
    from benchmarks.common import percentile

    _bring_up()
    report = asyncio.run(benchmark.run(count, say=console.print))
    ms = report.gone_ms
    console.print(
        f"{len(ms)} providers delisted: gone from search p50 {_ms(percentile(ms, 50))} ms, "
        f"p95 {_ms(percentile(ms, 95))} ms, max {_ms(max(ms) if ms else float('nan'))} ms, "
        f"{report.timeouts} timed out; claims right after the decision refused "
        f"{report.claims_refused} of {report.claims_tried}"
    )


@bench.command("roster")
@click.option("--rows", default=1_000_000, show_default=True, help="Members in the generated CSV.")
def bench_roster(rows: int) -> None:
    """Import a generated roster CSV of ROWS members, then the same file again (nothing changes)."""
    from benchmarks import roster as benchmark

    _bring_up()
    asyncio.run(_migrate())
    report = asyncio.run(benchmark.run(rows, say=console.print))
    first, second = report.runs
    console.print(
        f"{report.rows:,} rows ({report.megabytes:.0f} MB): imported in {first[0]:.1f} s "
        f"({report.rows / first[0]:,.0f} rows/s), re-imported unchanged in {second[0]:.1f} s"
    )


@bench.command("grant")
@click.option("--amount", default=100, show_default=True, help="Points per member.")
def bench_grant(amount: int) -> None:
    """A points grant to every member of the federation, applied as the job applies it."""
    from benchmarks import grant as benchmark

    _bring_up()
    report = asyncio.run(benchmark.run(amount))
    console.print(
        f"members {report.members}, granted {report.granted}; queued in {report.create_s:.1f} s, "
        f"applied in {report.apply_s:.1f} s ({report.members_per_s:.0f} members/s), "
        f"replayed in {report.replay_s:.2f} s, reconciled in {report.reconcile_s:.1f} s "
        f"with {report.mismatched} mismatches"
    )


@bench.command("scorecards")
@click.option("--providers", default=20_000, show_default=True)
@click.option("--ratings", default=1_000_000, show_default=True, help="Redemptions, each rated.")
@click.option("--complaints", default=50_000, show_default=True)
@click.option("--results", default=20_000, show_default=True, help="Third-party evaluator results.")
@click.option("--freshness", default=200, show_default=True, help="New ratings timed one by one (0: skip).")
@click.option("--regenerate", is_flag=True, help="Generate the bench data again even if it is there.")
def bench_scorecards(
    providers: int, ratings: int, complaints: int, results: int, freshness: int, regenerate: bool
) -> None:
    """Scorecards: full recomputation (twice, compared) and how fast a new rating shows."""
    from benchmarks import scorecards as benchmark
    from benchmarks.common import percentile

    _bring_up()
    asyncio.run(_migrate())
    report = asyncio.run(
        benchmark.run(
            providers=providers,
            ratings=ratings,
            complaints=complaints,
            results=results,
            freshness=freshness,
            regenerate=regenerate,
            say=console.print,
        )
    )
    table = Table("measure", "result")
    if report.generated_s is not None:
        table.add_row("data generated", f"{report.generated_s:.1f} s")
    for number, seconds in enumerate(report.recompute_s, start=1):
        table.add_row(f"full recomputation {number}", f"{seconds:.2f} s ({report.scorecards} scorecards)")
    table.add_row("identical results twice", "yes" if report.identical else "[red]NO[/]")
    if report.freshness_ms or report.freshness_timeouts:
        values = report.freshness_ms
        table.add_row(
            f"new rating → scorecard ({len(values)} ratings, through outbox, relay, worker)",
            f"p50 {_ms(percentile(values, 50))} ms, p95 {_ms(percentile(values, 95))} ms, "
            f"max {_ms(max(values, default=float('nan')))} ms, {report.freshness_timeouts} timed out",
        )
    if report.single_ms:
        values = report.single_ms
        table.add_row(
            "recompute_provider alone (in process)",
            f"p50 {_ms(percentile(values, 50))} ms, p95 {_ms(percentile(values, 95))} ms",
        )
    console.print(table)


@bench.command("reports")
@click.option("--members", default=1_000_000, show_default=True)
@click.option("--vouchers", default=10_000_000, show_default=True, help="Claims over the last year, most redeemed.")
@click.option("--loads", default=20, show_default=True, help="Dashboard loads timed.")
@click.option("--regenerate", is_flag=True, help="Generate the bench data again even if it is there.")
def bench_reports(members: int, vouchers: int, loads: int, regenerate: bool) -> None:
    """Reports: aggregation (full and incremental) and the city operator's dashboard."""
    from benchmarks import reports as benchmark

    _bring_up()
    asyncio.run(_migrate())
    report = asyncio.run(
        benchmark.run(members=members, vouchers=vouchers, loads=loads, regenerate=regenerate, say=console.print)
    )
    table = Table("measure", "result")
    for label, value in report.rows():
        table.add_row(label, value)
    console.print(table)


@bench.command("draw")
@click.option("--entries", default=100_000, show_default=True, help="Members in the draw.")
@click.option("--through-service", default=2_000, show_default=True, help="Of them, entered one by one as members do.")
@click.option("--concurrency", default=16, show_default=True, help="Members entering at once.")
def bench_draw(entries: int, through_service: int, concurrency: int) -> None:
    """A fair draw: entry throughput, then the draw of ENTRIES entries and its verification."""
    from benchmarks import draw as benchmark

    _bring_up()
    asyncio.run(_migrate())
    report = asyncio.run(
        benchmark.run(entries=entries, through_service=through_service, concurrency=concurrency, say=console.print)
    )
    table = Table("measure", "result")
    for label, value in report.rows():
        table.add_row(label, value)
    console.print(table)
    if report.problems:
        raise click.ClickException("; ".join(report.problems))


@bench.command("prepaid")
@click.option("--holders", default=2_000, show_default=True, help="Members holding a package of the delisted provider.")
@click.option("--baseline", default=200, show_default=True, help="Plain paid vouchers refunded first, as the baseline.")
@click.option("--concurrency", default=8, show_default=True, help="Members buying at once (set-up).")
@click.option(
    "--refund-concurrency", default=6, show_default=True, help="Packages refunded at once (1: one after another)."
)
def bench_prepaid(holders: int, baseline: int, concurrency: int, refund_concurrency: int) -> None:
    """A delisted provider's prepaid packages: every unused balance refunded through Stripe."""
    from benchmarks import prepaid as benchmark

    _bring_up()
    asyncio.run(_migrate())
    report = asyncio.run(
        benchmark.run(
            holders=holders,
            baseline=baseline,
            concurrency=concurrency,
            refund_concurrency=refund_concurrency,
            say=console.print,
        )
    )
    table = Table("measure", "result")
    for label, value in report.rows():
        table.add_row(label, value)
    console.print(table)
    if report.reconcile:
        raise click.ClickException(f"the ledger and payments disagree: {report.reconcile}")


@main.group()
def draw() -> None:
    """Fair draws."""


@draw.command("verify")
@click.argument("draw_id", type=int, required=False)
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A result file downloaded from the draw's page (no database needed).",
)
def draw_verify(draw_id: int | None, path: Path | None) -> None:
    """Recompute a draw from its seed and entries and compare with the published order."""
    import json

    from marketplace.draws import services as draw_services

    if (draw_id is None) == (path is None):
        raise click.UsageError("give a draw's number or --file, one of the two")
    if path is not None:
        result = json.loads(path.read_text(encoding="utf-8"))
    elif draw_id is not None:
        from marketplace.core import db

        _bring_up()

        async def published() -> dict:
            await db.open_pool()
            try:
                return await draw_services.published_result(draw_id)
            finally:
                await db.close_pool()

        result = asyncio.run(published())
    problems = draw_services.verify(result)
    for problem in problems:
        console.print(f"[red]{problem}[/]")
    if problems:
        raise click.ClickException(f"draw {result['draw']} does not verify")
    console.print(
        f"draw {result['draw']}: the seed matches its published SHA-256 {result['seed_hash'][:16]}…, and its "
        f"{len(result['entries']):,} entries give exactly the published order "
        f"({min(result['places'], len(result['order']))} winners, {max(0, len(result['order']) - result['places']):,} "
        "on the waitlist)"
    )


@main.group()
def reports() -> None:
    """Report aggregates."""


@reports.command("rebuild")
def reports_rebuild() -> None:
    """Recompute every report aggregate from all history (the job keeps the last days)."""
    from marketplace.core import db
    from marketplace.reports import services as report_services

    _bring_up()

    async def rebuild():
        await db.open_pool()
        try:
            return await report_services.refresh(full=True)
        finally:
            await db.close_pool()

    result = asyncio.run(rebuild())
    console.print(
        f"report aggregates rebuilt in {result.seconds:.1f} s: {result.usage_rows} usage rows, "
        f"{result.provider_rows} provider rows, {result.miss_rows} search-miss rows, "
        f"{result.districts} districts"
    )


@main.command()
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
def backup(destination: Path) -> None:
    """Back up the database and the uploaded pictures into a new folder under DESTINATION
    (the PII keys are not in it: keep them apart; see docs/operations.md)."""
    from marketplace.runtime import backup as backups

    _bring_up()
    try:
        report = asyncio.run(backups.backup(destination))
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    console.print(
        f"backed up {sum(report.rows.values()):,} rows of {len(report.rows)} tables "
        f"({report.dump_bytes / 1e6:,.1f} MB) and {report.media_files} pictures "
        f"in {report.seconds:.1f} s to {report.path}"
    )
    console.print(
        "[yellow]The backup holds no secrets: keep PII_ENCRYPTION_KEY and PII_HASH_KEY "
        "(var/secrets.json for a local run) safe, apart from it; without them it cannot be read.[/]"
    )


@main.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Drop the configured database first (stop web, worker and scheduler).")
def restore(path: Path, replace: bool) -> None:
    """Restore a backup made by `benefits backup` into the configured (or embedded)
    database, check every table's row count, migrate forward and rebuild the search index."""
    from marketplace.runtime import backup as backups

    try:
        backups.read_manifest(path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    _bring_up()
    try:
        report = asyncio.run(backups.restore(path, replace=replace))
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    if report.mismatched:
        for table, (expected, restored) in report.mismatched.items():
            console.print(f"[red]{table}: {expected:,} rows in the backup, {restored:,} restored[/]")
        raise click.ClickException("the restored row counts differ from the backup's")
    console.print(
        f"restored {sum(report.rows.values()):,} rows of {len(report.rows)} tables in {report.seconds:.1f} s; "
        "every table's row count matches the backup"
    )
    started = time.perf_counter()
    asyncio.run(_migrate())
    console.print(f"migrated in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    written = asyncio.run(_reindex())
    console.print(f"search index rebuilt: {written} documents in {time.perf_counter() - started:.1f} s")


@main.command("rotate-pii-key")
def rotate_pii_key() -> None:
    """Re-encrypt every phone and ID number with PII_ENCRYPTION_KEY (old values are read
    with PII_ENCRYPTION_KEY_OLD); see docs/operations.md."""
    from marketplace.core import db, pii

    _bring_up()

    async def rotate() -> int:
        await db.open_pool()
        try:
            return await pii.rotate_key()
        finally:
            await db.close_pool()

    console.print(f"re-encrypted {asyncio.run(rotate())} values with the current key")


@main.command("create-admin")
@click.argument("username")
@click.argument("display_name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def create_admin(username: str, display_name: str, password_stdin: bool) -> None:
    """Create an administrator of the national federation node: the first account of a
    deployment that only `benefits migrate` filled. The password is prompted for (twice)
    unless --password-stdin; a weak one is refused. Two-factor sign-in is set up at the
    first sign-in."""
    from marketplace.core import db
    from marketplace.core.errors import DomainError, NotFound
    from marketplace.core.identity import operators

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    _bring_up()

    async def create() -> dict:
        await db.open_pool()
        try:
            return await operators.create_national_administrator(username, display_name, password)
        finally:
            await db.close_pool()

    try:
        created = asyncio.run(create())
    except NotFound as error:
        raise click.ClickException(f"{error.detail} Run `benefits migrate` first.") from error
    except DomainError as error:
        raise click.ClickException(error.detail) from error
    console.print(
        f"administrator [bold]{created['username']}[/] created at the national node "
        f"(operator {created['id']}); sign in at /console/login"
    )


@main.command()
@click.option("--port", default=8000, show_default=True, envvar="BENEFITS_PORT", show_envvar=True)
@click.option("--members", default=5000, show_default=True)
@click.option("--providers", default=200, show_default=True)
@click.option("--offers", default=800, show_default=True)
def demo(port: int, members: int, providers: int, offers: int) -> None:
    """Set up, seed once, and run web + worker + scheduler until Ctrl-C.

    Ctrl-C (or SIGTERM) at any point stops the processes and the components this run
    started; components that were already running are left as they were.
    """
    clock = _Stopwatch()
    # The seed's modules and the search text's dictionaries (jieba, pypinyin) take seconds
    # to load: loaded beside the setup check and the components' start, which mostly wait.
    threading.Thread(target=_preload, daemon=True).start()
    _setup()
    clock.lap("setup checked")
    # Installed explicitly: a process started in the background by a non-interactive
    # shell inherits SIGINT as ignored, and Ctrl-C must stop the demo wherever it runs.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    children: list[subprocess.Popen] = []
    started: list[components.Component] = []
    try:
        started = _bring_up()
        clock.lap("components up")
        asyncio.run(_migrate())
        clock.lap("migrated")
        from marketplace import seed as seeding

        if asyncio.run(seeding.has_data()):
            console.print("demo data already present; reusing it")
        else:
            report = asyncio.run(_seed(members, providers, offers))
            clock.lap("seeded: " + _stage_times(report.seconds))
            if report.history is not None:
                console.print("  history: " + _stage_times(report.history.seconds), soft_wrap=True)
        asyncio.run(_reindex())
        clock.lap("search index built")
        guide = _write_demo_guide(port, asyncio.run(seeding.demo_evaluator_key()))
        # Started only now: when /ready answers, the data, the index and the guide are complete.
        for role in (["serve", "--port", str(port)], ["worker"], ["scheduler"]):
            children.append(processes.spawn(["-m", "marketplace.cli", *role]))
        components.stripe().send_webhooks_to(f"http://127.0.0.1:{port}/api/v1/stripe/webhook")
        if _wait_until_ready(f"http://127.0.0.1:{port}/ready", children):
            clock.lap("/ready answers 200: the demo is ready")
        _print_demo_guide(guide)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        console.print("[red]a process of the demo stopped; stopping the rest[/]")
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping…")
        processes.stop(children)
        components.stop(started)


def _preload() -> None:
    from catalog.search import text
    from marketplace import seed  # noqa: F401

    text.warm_up()


class _Stopwatch:
    """Seconds since the command started, printed after each stage of the demo's start, so
    that a slow start shows where its time went (docs/benchmarks.md keeps the figures)."""

    def __init__(self) -> None:
        # From the start of the process: its imports count too.
        self.started = time.perf_counter() - (time.time() - psutil.Process().create_time())
        self.last = self.started

    def lap(self, what: str) -> None:
        now = time.perf_counter()
        console.print(f"[dim]{now - self.started:6.1f} s[/] {what} (+{now - self.last:.1f} s)", soft_wrap=True)
        self.last = now


def _stage_times(seconds: dict[str, float]) -> str:
    return ", ".join(f"{stage} {value:.1f} s" for stage, value in seconds.items())


def _wait_until_ready(url: str, children: list[subprocess.Popen], timeout: float = 180.0) -> bool:
    """Poll the web process's readiness until it answers 200; False if a child died or
    it took longer than `timeout` (the guide is printed either way)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(child.poll() is None for child in children):
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def _write_demo_guide(port: int, evaluator_key: str) -> Path:
    """Where to go and how to sign in: plain lines of at most 80 columns (nothing is cut
    or wrapped in a terminal), kept in var/demo-guide.txt."""
    from marketplace import seed as seeding
    from marketplace.runtime.paths import var_dir

    path = var_dir() / "demo-guide.txt"
    path.write_text(seeding.demo_guide(f"http://127.0.0.1:{port}", evaluator_key) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _print_demo_guide(path: Path) -> None:
    click.echo(path.read_text(encoding="utf-8").rstrip("\n"))
    click.echo(f"This guide is also in {path}.")
    click.echo("Press Ctrl-C to stop everything this command started.")


if __name__ == "__main__":
    main()
