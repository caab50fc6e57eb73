"""docker-compose.yml checked offline (no Docker engine here): schema, wiring, referenced files, and settings."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_SERVICES = ("api", "worker")
REQUIRED_SECRETS = ("JWT_SECRET", "POSTGRES_PASSWORD", "S3_SECRET_KEY", "KIE_API_KEY", "MINIO_ROOT_PASSWORD")
SAMPLE_ENV = {
    "JWT_SECRET": "j" * 48,
    "POSTGRES_PASSWORD": "pg-password-0123456789",
    "S3_SECRET_KEY": "s3-secret-0123456789",
    "KIE_API_KEY": "kie-key-0123456789",
    "MINIO_ROOT_PASSWORD": "minio-root-0123456789",
}
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}` and `$$` (enough for this file)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        current = env.get(name)
        if op in (":?", "?") and not current:
            raise KeyError(f"{name}: {arg}")
        if op in (":-", "-") and not current:
            return arg
        return current or ""

    return _VARIABLE.sub(replace, value)


def environment_of(service: dict[str, Any]) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: None if value is None else str(value) for key, value in env.items()}


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(relative: str, patterns: list[str]) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(prefix, pattern.removeprefix("**/")) or fnmatch.fnmatch(prefix, pattern)
        for pattern in patterns
        for prefix in prefixes
    )


def test_compose_file_matches_the_compose_specification():
    binary = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(binary), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_the_product_needs_is_defined(compose):
    services = compose["services"]
    for name in (
        "postgres",
        "redis",
        "temporal",
        "temporal-ui",
        "minio",
        "minio-setup",
        "api",
        "worker",
        "web",
    ):
        assert name in services, name
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")


def test_depends_on_names_defined_services_with_a_condition_they_can_meet(compose):
    services = compose["services"]
    for name, service in services.items():
        depends_on = service.get("depends_on") or {}
        assert isinstance(depends_on, dict), f"{name}: use the long form with a condition"
        for target, rule in depends_on.items():
            assert target in services, f"{name} depends on undefined service {target}"
            condition = rule.get("condition")
            if condition == "service_healthy":
                assert "healthcheck" in services[target], (
                    f"{name} waits for {target}, which has no healthcheck"
                )
            elif condition == "service_completed_successfully":
                assert services[target].get("restart") == "no", f"{target} must be a one-shot job"
            else:
                pytest.fail(f"{name} → {target}: condition {condition!r} does not wait for readiness")


def test_dependencies_have_no_cycle(compose):
    services = compose["services"]
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in visiting, "dependency cycle: " + " → ".join([*path, name])
        if name in done:
            return
        visiting.add(name)
        for target in services[name].get("depends_on") or {}:
            visit(target, [*path, name])
        visiting.discard(name)
        done.add(name)

    for name in services:
        visit(name, [])


def test_every_long_running_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        if service.get("restart") == "no":
            continue
        assert "healthcheck" in service, name
        assert service["healthcheck"].get("test"), name


def test_files_and_directories_the_compose_file_refers_to_exist(compose):
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            context = ROOT / build["context"]
            assert context.is_dir(), f"{name}: build context {context}"
            assert (context / build["dockerfile"]).is_file(), f"{name}: {build['dockerfile']}"
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: volume source {source}"
            else:
                assert source in (compose.get("volumes") or {}), (
                    f"{name}: named volume {source} is not declared"
                )


def test_temporal_dynamic_config_is_the_mounted_file_and_well_formed(compose):
    temporal = compose["services"]["temporal"]
    path = environment_of(temporal)["DYNAMIC_CONFIG_FILE_PATH"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in temporal["volumes"]}
    mounted_dir = mounts["/etc/temporal/config/dynamicconfig"]
    config_file = ROOT / mounted_dir / Path(path).name
    assert path.startswith("config/dynamicconfig/") and config_file.is_file()
    config = yaml.safe_load(config_file.read_text())
    assert isinstance(config, dict) and config
    for key, entries in config.items():
        assert isinstance(entries, list) and entries, key
        assert all(isinstance(entry, dict) and "value" in entry for entry in entries), key


def dockerfile_copies(dockerfile: Path) -> list[str]:
    """The local sources of every COPY (not `COPY --from=<stage>`)."""
    instructions = dockerfile.read_text().replace("\\\n", " ").splitlines()
    sources = []
    for line in instructions:
        words = line.split()
        if words and words[0].upper() == "COPY" and not any(w.startswith("--from") for w in words):
            sources += [w for w in words[1:-1] if not w.startswith("--")]
    return sources


def test_dockerfiles_copy_files_that_exist_and_are_not_ignored():
    patterns = dockerignore_patterns()
    for dockerfile in (ROOT / "docker").glob("*.Dockerfile"):
        for source in dockerfile_copies(dockerfile):
            if source == ".":
                continue
            path = source.rstrip("/")
            assert (ROOT / path).exists(), f"{dockerfile.name}: COPY {source}"
            assert not is_ignored(path, patterns), f"{dockerfile.name}: COPY {source} is in .dockerignore"


def test_the_commands_the_containers_run_exist(compose):
    patterns = dockerignore_patterns()
    api_dockerfile = (ROOT / compose["services"]["api"]["build"]["dockerfile"]).read_text()
    default_command = re.search(r"uvicorn (\S+):(\S+) --factory", api_dockerfile)
    assert default_command, "the API image runs uvicorn with the app factory"
    module, factory = default_command.groups()
    module_file = ROOT / (module.replace(".", "/") + ".py")
    assert module_file.is_file() and f"def {factory}(" in module_file.read_text()
    assert "alembic upgrade head &&" in api_dockerfile and (ROOT / "alembic.ini").is_file()

    commands = [compose["services"]["worker"]["command"]]
    commands += [s["healthcheck"]["test"] for n, s in compose["services"].items() if n in APP_SERVICES]
    for command in commands:
        if command[:2] == ["python", "-m"]:
            package = ROOT / command[2].replace(".", "/")
            target = package / "__main__.py" if package.is_dir() else package.with_suffix(".py")
            assert target.is_file(), f"python -m {command[2]}"
            assert not is_ignored(str(target.relative_to(ROOT)), patterns)
        elif command[:1] == ["python"] and command[1].endswith(".py"):
            assert (ROOT / command[1]).is_file(), command[1]
            assert not is_ignored(command[1], patterns), f"{command[1]} is left out of the image"


def test_app_environment_names_only_settings_fields_and_requires_the_secrets(compose):
    fields = {name.upper() for name in Settings.model_fields}
    for name in APP_SERVICES:
        env = environment_of(compose["services"][name])
        unknown = set(env) - fields
        assert not unknown, f"{name} passes variables Settings does not read: {sorted(unknown)}"
        assert env["ENVIRONMENT"] == "production"
        for secret in ("JWT_SECRET", "S3_SECRET_KEY", "KIE_API_KEY"):
            value = env[secret] or ""
            assert value.startswith(f"${{{secret}:?") and value.endswith("}"), (
                f"{name}: {secret} must be required"
            )
    text = COMPOSE_FILE.read_text()
    for secret in REQUIRED_SECRETS:
        uses = re.findall(rf"\$\{{{secret}(:?[-?])?", text)
        assert uses and all(op == ":?" for op in uses), f"{secret} must always be ${{{secret}:?…}}"


def test_the_app_environment_makes_valid_production_settings(compose):
    """With only the required secrets set, the interpolated environment passes Settings' production checks."""
    for name in APP_SERVICES:
        env = {
            key: interpolate(value, SAMPLE_ENV)
            for key, value in environment_of(compose["services"][name]).items()
            if value is not None
        }
        script = "from core.settings import Settings; print(Settings(_env_file=None).model_dump_json())"
        result = subprocess.run(
            [sys.executable, "-c", script],
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env},
            cwd="/",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        loaded = json.loads(result.stdout)
        assert loaded["environment"] == "production"
        assert (
            loaded["database_url"].startswith("postgresql+psycopg://")
            and "@postgres:5432/" in loaded["database_url"]
        )
        assert loaded["redis_url"] == "redis://redis:6379/0" and loaded["temporal_address"] == "temporal:7233"
        assert loaded["s3_endpoint_url"] == loaded["public_base_url"]


def test_missing_secrets_stop_compose_before_anything_starts(compose):
    for secret in REQUIRED_SECRETS:
        partial = {k: v for k, v in SAMPLE_ENV.items() if k != secret}
        with pytest.raises(KeyError, match=secret):
            for service in compose["services"].values():
                for value in environment_of(service).values():
                    if value is not None:
                        interpolate(value, partial)


def test_nginx_serves_the_spa_and_proxies_api_docs_admin_ws_and_the_bucket():
    conf = (ROOT / "docker" / "nginx.conf").read_text()
    locations = dict(re.findall(r"location\s+((?:[=~^]+\s+)?\S+)\s*\{([^}]*)\}", conf))
    proxied = {loc.split()[-1] for loc, body in locations.items() if "proxy_pass http://aiam_api" in body}
    assert {"/api/", "/ws/", "/openapi.json", "/docs", "/admin"} <= proxied
    websocket = next(body for loc, body in locations.items() if loc.endswith("/ws/"))
    assert "proxy_set_header Upgrade $http_upgrade" in websocket
    assert "proxy_set_header Connection $connection_upgrade" in websocket
    # Client routes resolve as api/spa.py resolves them: the page, the /review/<token>/ shell, else 404.html.
    assert "=404" in locations["/"] and "error_page 404 /404.html" in conf
    assert "/review/_/index.html" in locations["^~ /review/"]
    bucket = [loc for loc in locations if "${S3_BUCKET}" in loc]
    assert bucket and all("proxy_pass http://aiam_s3" in locations[loc] for loc in bucket)
    assert "proxy_set_header Host $http_host" in conf  # presigned S3 signatures cover the Host header
    assert "server api:8000" in conf and "server minio:9000" in conf


# Settings the compose file leaves out on purpose; every other one is passed through to the app.
NOT_FOR_COMPOSE = {
    "API_HOST": "the image's Uvicorn command binds 0.0.0.0:8000; only `make dev` reads it",
    "API_PORT": "the same",
    "KIE_SIMULATOR_KEY": "production never uses the simulator (KIE_API_KEY is required)",
}


def env_example() -> dict[str, str]:
    """`.env.example` as Compose reads a `.env` made by copying it (an unquoted value ends at ` #`)."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        values[name.strip()] = re.split(r"\s+#", value, maxsplit=1)[0].strip()
    return values


def web_address(compose: dict[str, Any]) -> str:
    address = compose["services"]["web"]["networks"]["default"]["ipv4_address"]
    assert isinstance(address, str)
    return address


def test_every_setting_reaches_the_app(compose):
    """A setting the README documents does nothing in a deployment unless compose passes it to the containers."""
    fields = {name.upper() for name in Settings.model_fields}
    assert set(NOT_FOR_COMPOSE) <= fields
    for name in APP_SERVICES:
        env = environment_of(compose["services"][name])
        missing = sorted(fields - set(env) - set(NOT_FOR_COMPOSE))
        assert not missing, f"{name}: docker-compose.yml does not pass {missing} (x-app-environment)"


def test_the_api_trusts_forwarded_headers_from_web_alone(compose):
    """Only Nginx may name the client: not the whole network (every container, and the bridge gateway that
    Docker's userland proxy connects from)."""
    import ipaddress

    address = ipaddress.ip_address(web_address(compose))
    (network,) = compose["networks"]["default"]["ipam"]["config"]
    subnet = ipaddress.ip_network(network["subnet"])
    dynamic = ipaddress.ip_network(network["ip_range"])
    # Docker hands out dynamic addresses from ip_range only, so no container started earlier can take web's.
    assert address in subnet and dynamic.subnet_of(subnet) and address not in dynamic
    assert address != next(subnet.hosts())  # not the gateway
    for name in APP_SERVICES:
        trusted = interpolate(
            environment_of(compose["services"][name])["FORWARDED_ALLOW_IPS"] or "", SAMPLE_ENV
        )
        assert trusted == str(address), name


def test_a_dotenv_copied_from_the_example_keeps_trusting_web(compose):
    """README points at `.env.example`; copied to `.env`, it must not override compose's trusted proxy (with
    127.0.0.1 the API would see every client as Nginx: one login budget for the whole internet)."""
    dotenv = {**env_example(), **SAMPLE_ENV}
    for name in APP_SERVICES:
        trusted = interpolate(environment_of(compose["services"][name])["FORWARDED_ALLOW_IPS"] or "", dotenv)
        assert trusted == web_address(compose), name
