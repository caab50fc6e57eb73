"""What a request may ask of a model, checked against its capabilities (`core.catalogue`), without a database.

The same rules are exercised through the API in tests/api/test_generation.py and tests/api/test_refused_input.py;
these pin the rules themselves next to the module that owns them.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.catalogue import check_prompt, resolve_params
from core.errors import InvalidInput
from core.models import AIModel, ModelKind


def seedance(**default_params: Any) -> AIModel:
    return AIModel(
        provider_id=1,
        provider_model_id="bytedance/seedance-1.5-pro",
        display_name="Seedance 1.5 Pro",
        kind=ModelKind.VIDEO,
        default_params=default_params,
        capabilities={
            "prompt": {"min_length": 3, "max_length": 2500},
            "params": {
                "resolution": {"type": "enum", "values": ["480p", "720p", "1080p"], "default": "720p"},
                "duration": {"type": "enum", "values": [4, 8, 12], "default": 8},
                "generate_audio": {"type": "bool", "default": False},
                "note": {"type": "text"},
            },
        },
    )


def test_defaults_come_from_the_capabilities_then_the_model_then_the_request() -> None:
    model = seedance(resolution="1080p")
    assert resolve_params(model, {}) == {"resolution": "1080p", "duration": 8, "generate_audio": False}
    assert resolve_params(model, {"duration": 4, "resolution": "480p"}) == {
        "resolution": "480p",
        "duration": 4,
        "generate_audio": False,
    }


def test_a_number_sent_as_text_means_the_number() -> None:
    assert resolve_params(seedance(), {"duration": "12"})["duration"] == 12


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"seed": 3}, "Seedance 1.5 Pro does not take seed."),
        ({"duration": 5}, "duration must be one of 4, 8, 12."),
        ({"duration": "٣"}, "duration must be one of 4, 8, 12."),
        ({"duration": True}, "duration must be one of 4, 8, 12."),
        ({"generate_audio": "yes"}, "generate_audio must be true or false."),
        ({"note": {"a": ["b\x00"]}}, "note may not contain NUL characters (U+0000)."),
    ],
)
def test_what_the_model_cannot_take_is_refused(given: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        resolve_params(seedance(), given)
    assert str(refused.value) == message


def test_the_prompt_must_fit_the_models_limits() -> None:
    model = seedance()
    check_prompt(model, "a cat")
    with pytest.raises(InvalidInput, match="at least 3 character"):
        check_prompt(model, "  a  ")
    with pytest.raises(InvalidInput, match=r"2501 characters long; Seedance 1\.5 Pro takes at most 2500"):
        check_prompt(model, "x" * 2501)
