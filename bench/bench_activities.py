"""Benchmark (issue 12): the activities page of a company against the bare SQL of that page.

The page is the load mix's (``bench_load.ACTIVITIES``): the 50 newest follow-ups of one
company with ``totalCount``, each with its owner's and activity type's names, for an
associate who is not an administrator (so the privacy condition is in the SQL).  The
bare side runs the same statements by hand, no ORM: the page (``ORDER BY sort_at DESC, id
DESC LIMIT 51``), its count, the owners' and types' names, ``json.dumps``; both sides
answer the same ids and count (checked).

Two comparisons per engine and size, each with both sides alternating run by run in one
process, 20 companies in turn (the same company on both sides of a run):

* in-process: ``schema.execute`` against the bare statements on the same connection;
* over HTTP: ``followups serve`` against a plain Starlette endpoint running the bare
  statements, both on loopback, one keep-alive client.

Ratios are per pass (median of the pass's runs); min / median / max over passes.
Datasets are ``bench_freebusy``'s (``--keep`` reuses them):

    .venv/bin/python bench/bench_activities.py --keep --sizes 100000,1000000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import bench_freebusy as fb  # noqa: E402
from bench_load import ACTIVITIES  # noqa: E402

TARGET = 3.0
COMPANIES = 20
PAGE = 50


async def bare_page(conn: Any, pg: bool, viewer: int, company: int) -> str:
    """The page, its count and the names it shows, by hand; JSON."""
    ph = [fb._ph(pg, i) for i in range(1, 5)]
    listed = (
        f"f.company_id = {ph[0]} AND (f.private = {ph[1]} OR f.owner_id = {ph[2]} OR f.id IN "
        f"(SELECT p.followup_id FROM participant p WHERE p.associate_id = {ph[3]}))"
    )
    args = [company, False, viewer, viewer]
    rows = await conn.execute_query_dict(
        "SELECT f.id, f.kind, f.title, f.start_at, f.end_at, f.deadline, f.done, f.owner_id, "
        f"f.type_id, f.sort_at FROM followup f WHERE {listed} "
        f"ORDER BY f.sort_at DESC, f.id DESC LIMIT {PAGE + 1}",
        args,
    )
    total = (await conn.execute_query_dict(f"SELECT count(*) AS n FROM followup f WHERE {listed}",
                                           args))[0]["n"]  # fmt: skip
    rows = rows[:PAGE]
    names: dict[str, dict[Any, Any]] = {}
    for table, column in (("associate", "owner_id"), ("activity_type", "type_id")):
        keys = sorted({r[column] for r in rows if r[column] is not None}) or [0]
        marks = ", ".join(fb._ph(pg, i + 1) for i in range(len(keys)))
        found = await conn.execute_query_dict(
            f"SELECT id, name FROM {table} WHERE id IN ({marks})", keys
        )
        names[table] = {r["id"]: r["name"] for r in found}
    nodes = [
        {**r, "owner": names["associate"].get(r["owner_id"]),
         "type": names["activity_type"].get(r["type_id"])}
        for r in rows
    ]  # fmt: skip
    return json.dumps({"totalCount": total, "nodes": nodes}, default=str)


async def _setup(conn: Any, pg: bool) -> tuple[int, list[int]]:
    """A non-administrator viewer and the companies to page through (seeded choice among
    those with more than a page of follow-ups)."""
    viewer = (await conn.execute_query_dict(
        f"SELECT id FROM associate WHERE is_admin = {fb._ph(pg, 1)} ORDER BY id LIMIT 1", [False]
    ))[0]["id"]  # fmt: skip
    big = await conn.execute_query_dict(
        "SELECT company_id FROM followup WHERE company_id IS NOT NULL GROUP BY company_id "
        f"HAVING count(*) > {PAGE} ORDER BY company_id"
    )
    companies = [r["company_id"] for r in big]
    return viewer, random.Random(12).sample(companies, min(COMPANIES, len(companies)))


async def _child(url: str, runs: int, http: dict[str, Any]) -> dict[str, Any]:
    import httpx
    from tortoise.connection import get_connection

    from config.settings import Settings
    from orm import db as orm_db
    from orm import models as m
    from resolvers.auth import create_token
    from resolvers.context import Context
    from schema import schema
    from schema.ids import decode_raw, encode

    await orm_db.connect(url)
    settings = Settings(database_url=url, debug=False)
    conn, pg = get_connection("default"), not url.startswith("sqlite")
    viewer_id, companies = await _setup(conn, pg)
    viewer = await m.Associate.get(id=viewer_id)
    token = await create_token(viewer, "bench")
    headers = {"Authorization": f"Bearer {token}"}

    def variables(company: int) -> dict[str, Any]:
        return {"company": encode("Company", company)}

    async def ours(company: int) -> Any:
        result = await schema.execute(ACTIVITIES, variable_values=variables(company),
                                      context_value=Context(viewer, settings))  # fmt: skip
        if result.errors:
            raise RuntimeError(result.errors)
        json.dumps(result.data)
        return result.data

    # the same page on both sides
    for company in companies:
        data = (await ours(company))["activities"]
        bare = json.loads(await bare_page(conn, pg, viewer_id, company))
        got = [int(decode_raw(n["id"], "FollowUp", "id")) for n in data["nodes"]]
        if got != [n["id"] for n in bare["nodes"]] or data["totalCount"] != bare["totalCount"]:
            raise RuntimeError(f"company {company}: the two sides answer different pages")
    times: dict[str, list[float]] = {"ours": [], "bare": [], "http": [], "plain": []}
    async with httpx.AsyncClient(timeout=60.0) as client:

        async def over_http(company: int) -> None:
            response = await client.post(
                http["service"], headers=headers,
                json={"query": ACTIVITIES, "variables": variables(company)},
            )  # fmt: skip
            if response.status_code != 200 or "errors" in response.json():
                raise RuntimeError(response.text[:500])

        async def plain(company: int) -> None:
            response = await client.get(http["raw"], params={"company": company})
            response.raise_for_status()

        sides = {
            "ours": ours,
            "bare": lambda c: bare_page(conn, pg, viewer_id, c),
            "http": over_http,
            "plain": plain,
        }
        for i in range(runs + 3):
            company = companies[i % len(companies)]
            for name, side in sides.items():
                t = time.perf_counter()
                await side(company)
                if i >= 3:  # the first rounds warm both sides up
                    times[name].append(time.perf_counter() - t)
    await orm_db.close()
    out = {f"{k}_ms": statistics.median(v) * 1000 for k, v in times.items()}
    out["companies"], out["page"] = len(companies), len(data["nodes"])
    return out


def _raw_server(url: str, port: int) -> None:
    """The bare statements behind a plain Starlette endpoint (its own process)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    from tortoise.connection import get_connection

    from orm import db as orm_db

    state: dict[str, int] = {}

    async def endpoint(request: Any) -> Response:
        if "company" not in request.query_params:  # the readiness probe
            return Response("{}", media_type="application/json")
        conn = get_connection("default")
        body = await bare_page(conn, not url.startswith("sqlite"), state["viewer"],
                               int(request.query_params["company"]))  # fmt: skip
        return Response(body, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> Any:
        await orm_db.connect(url)
        state["viewer"], _companies = await _setup(
            get_connection("default"), not url.startswith("sqlite")
        )
        yield
        await orm_db.close()

    app = Starlette(routes=[Route("/activities", endpoint)], lifespan=lifespan)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the datasets")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-http", help=argparse.SUPPRESS)
    parser.add_argument("--raw-server", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_server:
        _raw_server(args.raw_server, args.port)
        return
    if args.child:
        print(json.dumps(asyncio.run(_child(args.child, args.runs, json.loads(args.child_http)))))
        return
    engines, sizes = args.engines.split(","), [int(s) for s in args.sizes.split(",")]
    passes: dict[tuple[str, int], list[dict[str, Any]]] = {}
    made = []
    for engine in engines:
        for n in sizes:
            url, fresh = fb.dataset(engine, n, args.keep)
            if fresh:
                made.append((engine, n))
    try:
        for i in range(args.passes):
            for engine in engines:
                for n in sizes:
                    url = fb.dataset(engine, n, True)[0]
                    raw = [sys.executable, str(Path(__file__).resolve()), "--raw-server", url]
                    with fb.http_servers(url, n, raw, "/activities") as http:
                        child = [sys.executable, str(Path(__file__).resolve()), "--child", url,
                                 "--runs", str(args.runs), "--child-http", json.dumps(http)]
                        proc = subprocess.run(child, capture_output=True, text=True, cwd=ROOT,
                                              check=False)  # fmt: skip
                    if proc.returncode != 0:
                        raise RuntimeError(f"child failed:\n{proc.stderr[-4000:]}")
                    r = json.loads(proc.stdout.strip().splitlines()[-1])
                    passes.setdefault((engine, n), []).append(r)
                    print(
                        f"  pass {i + 1} {engine} {fb._label(n)}: in-process {r['ours_ms']:.2f}"
                        f" vs bare {r['bare_ms']:.2f} ms; over HTTP {r['http_ms']:.2f} vs "
                        f"{r['plain_ms']:.2f} ms ({r['page']} items, {r['companies']} companies)",
                        flush=True,
                    )
    finally:
        if not args.keep:
            for engine, n in made:
                fb.drop(engine, n)
    print()
    print(f"Activities page of {PAGE} with totalCount, owner and type names; per pass the "
          f"median of {args.runs} alternating runs; min / median / max over {args.passes} "
          "passes.")  # fmt: skip
    print()
    print("| measure | target | " + " | ".join(engines) + " |")
    print("|---|---|" + "---|" * len(engines))
    for n in sizes:
        label = fb._label(n)
        for name, top, bottom in (
            ("in-process / bare SQL", "ours_ms", "bare_ms"),
            ("over HTTP / bare SQL behind plain Starlette", "http_ms", "plain_ms"),
        ):
            cells = [fb.spread([p[top] / p[bottom] for p in passes[(e, n)]]) for e in engines]
            print(f"| {name} at {label} | <= {TARGET:.0f} | " + " | ".join(cells) + " |")
        cells = [fb.spread([p["http_ms"] for p in passes[(e, n)]]) for e in engines]
        print(f"| over HTTP at {label}, ms |  | " + " | ".join(cells) + " |")
    if len(sizes) > 1:
        small, big = min(sizes), max(sizes)
        cells = [
            fb.spread([b["http_ms"] / s["http_ms"]
                       for s, b in zip(passes[(e, small)], passes[(e, big)], strict=True)])
            for e in engines
        ]  # fmt: skip
        print(f"| growth {fb._label(small)} to {fb._label(big)} (over HTTP) | <= 1.5 | "
              + " | ".join(cells) + " |")  # fmt: skip


if __name__ == "__main__":
    main()
