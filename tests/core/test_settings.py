"""Settings: production refuses default or missing secrets; other environments start with local defaults."""

import pytest
from pydantic import ValidationError

from core.settings import Environment, Settings

STRONG = "s" * 40


def production(**overrides):
    values = {
        "environment": "production",
        "jwt_secret": STRONG,
        "s3_secret_key": "real-s3-secret",
        "kie_api_key": "real-kie-key",
        **overrides,
    }
    return Settings(_env_file=None, **values)


def test_production_with_real_secrets_starts():
    settings = production()
    assert settings.environment is Environment.PRODUCTION
    assert not settings.simulated_kie


@pytest.mark.parametrize(
    "overrides, variable",
    [
        ({"jwt_secret": "change-me-local-only-jwt-secret"}, "JWT_SECRET"),
        ({"jwt_secret": "short"}, "JWT_SECRET"),
        ({"s3_secret_key": "change-me-local-only-s3-secret"}, "S3_SECRET_KEY"),
        ({"kie_api_key": None}, "KIE_API_KEY"),
        ({"kie_api_key": ""}, "KIE_API_KEY"),
    ],
)
def test_production_refuses_default_or_missing_secrets(overrides, variable):
    with pytest.raises(ValidationError) as error:
        production(**overrides)
    assert variable in str(error.value)


def test_local_defaults_use_the_simulator(monkeypatch):
    for name in ("KIE_API_KEY", "ENVIRONMENT", "JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.environment is Environment.LOCAL
    assert settings.simulated_kie
    assert settings.api_port == 8000


def test_secrets_are_not_printed():
    settings = production()
    assert "real-kie-key" not in repr(settings)
    assert STRONG not in str(settings)


def test_env_example_lists_every_setting():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    missing = [name.upper() for name in Settings.model_fields if f"\n{name.upper()}=" not in text]
    assert not missing, f".env.example lacks {missing}"
