"""The Kie.ai simulator, for the one outage test that runs a real worker (the fixtures live in tests/pipeline)."""

from tests.pipeline.fixtures import kie_simulator  # noqa: F401
