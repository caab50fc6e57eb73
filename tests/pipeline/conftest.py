"""Pipeline fixtures live in `tests/pipeline/fixtures.py` so other test packages can import them the same way."""

from tests.pipeline.fixtures import (  # noqa: F401
    kie_simulator,
    pipeline_api_port,
    pipeline_app,
    pipeline_client,
    pipeline_settings,
    pipeline_worker,
)
