"""Abuse figures (printed, not asserted): does a login flood or a pile of slow smart edits stall other requests?

    PYTHONPATH=. .venv/bin/python -m bench.abuse [--gets 200] [--seconds 20] [--high-limit-env KEY=VALUE]

On fresh embedded services, with the Kie.ai simulator and a worker in this process, against ONE API process
(uvicorn, a subprocess, as deployed):
1. p50/p95 of a cheap authenticated GET (`/api/auth/me/`) alone; while 40 logins run concurrently (a flood kept
   at 40 in flight); while 20 smart edits wait for a slow LLM (`[sim:slow=N]`). The ratio during / alone (target:
   p95 during ≤ 2x alone).
2. Logins per second one API process sustains (40 accounts, 40 in flight), and the status codes seen.
   Phases 1-2 measure argon2 work and LLM waits, not fast 429s: their API process runs with every `RATE_LIMIT_*`
   raised far out of reach (`HIGH_LIMITS`; `--high-limit-env KEY=VALUE` overrides one).
3. The limits hold, on a second API process with the shipped defaults, from one address: a brute force on one
   account (how many 429s, the `Retry-After` seen, and how many guesses got through against the limit),
   registrations from one address, smart edits by one user.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import secrets
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bench.harness import (
    PASSWORD,
    api_server,
    app_env,
    embedded_services,
    login,
    machine,
    make_owner,
    percentile,
    register,
    running_worker,
    settings_of,
    simulator,
    timing_line,
)
from core.settings import Settings

LOGIN_FLOOD = 40
SMART_EDITS = 20
HIGH = "1000000/minute"
HIGH_LIMITS = {
    "RATE_LIMIT_LOGIN_PER_ACCOUNT": HIGH,
    "RATE_LIMIT_LOGIN_PER_ADDRESS": HIGH,
    "RATE_LIMIT_REGISTER_PER_ADDRESS": HIGH,
    "RATE_LIMIT_GENERATE_PER_USER": HIGH,
    "RATE_LIMIT_SMART_EDIT_PER_USER": HIGH,
}


async def timed_gets(http: httpx.AsyncClient, headers: dict[str, str], count: int) -> tuple[list[float], int]:
    """`count` GETs one after another; their latencies and how many did not answer 200."""
    latencies, failed = [], 0
    for _ in range(count):
        started = time.perf_counter()
        answer = await http.get("/api/auth/me/", headers=headers)
        latencies.append(time.perf_counter() - started)
        failed += answer.status_code != 200
        await asyncio.sleep(0.01)
    return latencies, failed


async def during(
    load_one: Callable[[int], Awaitable[int]], in_flight: int, measure: Awaitable[tuple[list[float], int]]
) -> tuple[list[float], int, collections.Counter[int], float]:
    """Keep `in_flight` copies of `load_one` running while `measure` runs; the load's status codes and its rate."""
    statuses: collections.Counter[int] = collections.Counter()
    stop = asyncio.Event()
    started = time.perf_counter()

    async def loop(worker: int) -> None:
        while not stop.is_set():
            statuses[await load_one(worker)] += 1

    loops = [asyncio.create_task(loop(i)) for i in range(in_flight)]
    await asyncio.sleep(1.0)  # the load is at full height before measuring
    try:
        latencies, failed = await measure
    finally:
        stop.set()
        await asyncio.gather(*loops)
    return latencies, failed, statuses, sum(statuses.values()) / (time.perf_counter() - started)


async def run(args: argparse.Namespace, env: dict[str, str], logs: Path) -> None:
    high = {**HIGH_LIMITS, **dict(item.split("=", 1) for item in args.high_limit_env)}
    print(f"before: {machine()}")
    async with running_worker(settings_of(env)):  # smart edits run as workflows
        await measure(args, {**env, **high}, high, logs)
        await limits_hold(args, env, logs)
    print(f"\nafter: {machine()}")


async def measure(args: argparse.Namespace, env: dict[str, str], high: dict[str, str], logs: Path) -> None:
    """Phases 1-2, on an API process whose rate limits are out of reach."""
    with api_server(env, logs, name="api-high-limits") as api:
        async with httpx.AsyncClient(
            base_url=api.url, timeout=120, limits=httpx.Limits(max_connections=100)
        ) as http:
            marker = uuid.uuid4().hex[:8]
            headers = await make_owner(http, f"reader-{marker}@example.com")
            accounts = [f"flood-{marker}-{i}@example.com" for i in range(LOGIN_FLOOD)]
            for email in accounts:
                await register(http, email)
            await timed_gets(http, headers, 20)  # warm-up

            alone, failed_alone = await timed_gets(http, headers, args.gets)

            async def one_login(worker: int) -> int:
                return (await login(http, accounts[worker])).status_code

            flood, failed_flood, login_statuses, login_rate = await during(
                one_login, LOGIN_FLOOD, timed_gets(http, headers, args.gets)
            )

            async def one_smart_edit(worker: int) -> int:
                body = {
                    "prompt": f"a harbour at dawn {uuid.uuid4().hex[:8]}",
                    "instruction": f"add fog [sim:slow={args.llm_seconds}]",
                }
                return (await http.post("/api/smart-edit/", json=body, headers=headers)).status_code

            edits, failed_edits, edit_statuses, _ = await during(
                one_smart_edit, SMART_EDITS, timed_gets(http, headers, args.gets)
            )

            print(f"\n== a cheap authenticated GET (/api/auth/me/), one API process == ({machine()})")
            print(timing_line("alone", alone) + f"  not 200: {failed_alone}")
            print(
                timing_line(f"while {LOGIN_FLOOD} logins run concurrently", flood)
                + f"  not 200: {failed_flood}"
            )
            print(timing_line(f"while {SMART_EDITS} smart edits wait (LLM {args.llm_seconds} s)", edits))
            print(f"{'':<40} not 200: {failed_edits}")
            p95 = percentile(alone, 0.95)
            print(
                f"p95 ratio during logins / alone:      {percentile(flood, 0.95) / p95:.2f}x  (target ≤ 2x)"
            )
            print(
                f"p95 ratio during smart edits / alone: {percentile(edits, 0.95) / p95:.2f}x  (target ≤ 2x)"
            )
            print(f"logins during the flood: {dict(login_statuses)} at {login_rate:.1f}/s")
            print(f"smart edits during their phase: {dict(edit_statuses)}")

            # Throughput: as many logins as one process answers, 40 in flight, for --seconds.
            statuses: collections.Counter[int] = collections.Counter()
            latencies: list[float] = []
            deadline = time.perf_counter() + args.seconds

            async def hammer(worker: int) -> None:
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    statuses[(await login(http, accounts[worker])).status_code] += 1
                    latencies.append(time.perf_counter() - started)

            started = time.perf_counter()
            await asyncio.gather(*(hammer(i) for i in range(LOGIN_FLOOD)))
            span = time.perf_counter() - started
            print(f"\n== login throughput, {LOGIN_FLOOD} in flight for {args.seconds} s == ({machine()})")
            print(f"limits raised with: {high}")
            print(timing_line("login latency", latencies))
            ok = statuses.get(200, 0)
            print(
                f"statuses: {dict(statuses)}; {ok / span:.1f} successful logins/s, {sum(statuses.values()) / span:.1f}/s"
            )


async def limits_hold(args: argparse.Namespace, env: dict[str, str], logs: Path) -> None:
    """Phase 3: a second API process with the shipped limits, everything from one address (127.0.0.1)."""
    defaults = Settings(_env_file=None)
    with api_server(env, logs, name="api-shipped-limits") as api:
        async with httpx.AsyncClient(base_url=api.url, timeout=120) as http:
            print(f"\n== the shipped limits, one address (127.0.0.1) == ({machine()})")
            victim = f"victim-{uuid.uuid4().hex[:8]}@example.com"
            await register(http, victim)
            headers = await make_owner(http, f"editor-{uuid.uuid4().hex[:8]}@example.com")

            # Registrations: two are used above; the rest of the window's allowance, then refusals.
            registrations: collections.Counter[int] = collections.Counter()
            for _ in range(args.registrations):
                body = {
                    "email": f"r-{uuid.uuid4().hex[:8]}@example.com",
                    "password": PASSWORD,
                    "display_name": "R",
                }
                registrations[(await http.post("/api/auth/register/", json=body)).status_code] += 1
            print(
                f"registration ({defaults.rate_limit_register_per_address} per address), {args.registrations} more "
                f"after 2: {dict(registrations)}; accepted in all: {2 + registrations.get(201, 0)}"
            )

            # Brute force: wrong passwords on one account, as fast as answers come.
            tries: collections.Counter[int] = collections.Counter()
            retry_after: set[str] = set()
            started = time.perf_counter()
            for _ in range(args.brute_force):
                answer = await login(http, victim, "not the password")
                tries[answer.status_code] += 1
                if answer.status_code == 429:
                    retry_after.add(answer.headers.get("Retry-After", "missing"))
            span = time.perf_counter() - started
            through = sum(count for status, count in tries.items() if status != 429)
            right = await login(http, victim)
            print(
                f"brute force ({defaults.rate_limit_login_per_account} per account, "
                f"{defaults.rate_limit_login_per_address} per address), {args.brute_force} wrong passwords "
                f"in {span:.1f} s: {dict(tries)}"
            )
            print(
                f"  guesses checked (not 429): {through}; 429s: {tries.get(429, 0)}; Retry-After seen: "
                f"{sorted(retry_after, key=lambda v: (len(v), v))}"
            )
            print(
                f"  the right password afterwards answers {right.status_code} (the account waits out its window)"
            )

            # Smart edits by one user, with a fast LLM.
            edits: collections.Counter[int] = collections.Counter()
            for _ in range(args.smart_edits):
                body = {"prompt": f"a harbour {uuid.uuid4().hex[:8]}", "instruction": "add fog"}
                edits[(await http.post("/api/smart-edit/", json=body, headers=headers)).status_code] += 1
            print(
                f"smart edits ({defaults.rate_limit_smart_edit_per_user} per user), {args.smart_edits} in a row: "
                f"{dict(edits)}; answered (not 429): {sum(c for s, c in edits.items() if s != 429)}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.abuse", description=__doc__)
    parser.add_argument("--gets", type=int, default=200, help="GETs measured per phase")
    parser.add_argument("--seconds", type=float, default=20, help="length of the login throughput phase")
    parser.add_argument("--llm-seconds", type=int, default=5, help="how long the simulated LLM takes")
    parser.add_argument("--brute-force", type=int, default=50, help="wrong passwords in the last phase")
    parser.add_argument("--registrations", type=int, default=10, help="registrations in the last phase")
    parser.add_argument("--smart-edits", type=int, default=30, help="smart edits in the last phase")
    parser.add_argument(
        "--high-limit-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="settings for phases 1-2 (e.g. the login rate limits, raised)",
    )
    args = parser.parse_args()
    print("command: " + " ".join(["python -m bench.abuse", *sys.argv[1:]]), flush=True)
    with embedded_services("abuse") as stack:
        logs = stack.data_dir / "logs"
        with simulator(logs, secrets.token_urlsafe(24)) as sim:
            env = app_env(
                stack,
                TEMPORAL_TASK_QUEUE=f"bench-abuse-{uuid.uuid4().hex[:6]}",
                KIE_BASE_URL=sim.url,
                KIE_TIMEOUT_SECONDS="30",
                SMART_EDIT_ATTEMPT_TIMEOUT_SECONDS="30",
            )
            asyncio.run(run(args, env, logs))


if __name__ == "__main__":
    main()
