"""Every launcher leaves X-Forwarded-* to the app (api/security.py), which believes only FORWARDED_ALLOW_IPS.

Uvicorn's own reading would trust 127.0.0.1 by default, and the image used to trust `*`: a client reaching the
API port directly could then name any address in X-Forwarded-For and escape every per-address limit."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_api_image_and_make_dev_run_uvicorn_without_its_proxy_headers() -> None:
    dockerfile = (ROOT / "docker" / "api.Dockerfile").read_text()
    command = re.search(r"exec uvicorn [^\"]*", dockerfile)
    assert command, "the API image runs uvicorn"
    assert "--no-proxy-headers" in command.group(0)
    assert "forwarded-allow-ips" not in dockerfile
    launcher = (ROOT / "devstack" / "__main__.py").read_text()
    assert '"--no-proxy-headers"' in launcher


def test_compose_trusts_forwarded_headers_from_its_own_network_only() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    subnets = [ipaddress.ip_network(c["subnet"]) for c in compose["networks"]["default"]["ipam"]["config"]]
    trusted = compose["services"]["api"]["environment"]["FORWARDED_ALLOW_IPS"]
    default = re.fullmatch(r"\$\{FORWARDED_ALLOW_IPS:-([^}]+)\}", trusted)
    assert default, trusted
    networks = [ipaddress.ip_network(item.strip()) for item in default.group(1).split(",")]
    assert networks and all(any(n.subnet_of(s) for s in subnets) for n in networks)  # type: ignore[arg-type]
    assert all(n.is_private for n in networks)
    assert "ports" not in compose["services"]["api"], "the API port must not be reachable around Nginx"
