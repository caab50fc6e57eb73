"""`python -m kie_simulator --host 127.0.0.1 --port 8090`: run the Kie.ai simulator until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from core.kie import SIMULATOR_API_KEY
from kie_simulator.app import Simulator, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kie_simulator", description="Kie.ai simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--api-key",
        default=os.environ.get("KIE_SIMULATOR_KEY", SIMULATOR_API_KEY),
        help="the bearer key it accepts (default: env KIE_SIMULATOR_KEY or the app's default simulator key)",
    )
    parser.add_argument(
        "--hmac-key",
        default=os.environ.get("KIE_WEBHOOK_HMAC_KEY") or None,
        help="sign callbacks with this key (default: env KIE_WEBHOOK_HMAC_KEY; unset = unsigned)",
    )
    parser.add_argument("--step-seconds", type=float, default=1.0, help="time spent in each task state")
    parser.add_argument("--instant", action="store_true", help="no time in any state (benches)")
    parser.add_argument("--credits", type=float, default=100_000.0, help="starting balance")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    simulator = Simulator(
        api_key=args.api_key,
        hmac_key=args.hmac_key,
        step_seconds=0.0 if args.instant else args.step_seconds,
        credits=args.credits,
    )
    print(
        f"Kie.ai simulator on http://{args.host}:{args.port} (step {simulator.step_seconds:g} s)", flush=True
    )
    uvicorn.run(
        create_app(simulator), host=args.host, port=args.port, log_level=args.log_level, access_log=False
    )


if __name__ == "__main__":
    main()
