"""A request's estimated cost, from the same table of cases as the SPA's Vitest (web/src/lib/costCases.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.errors import InvalidInput
from core.models import AIModel, ChargeKind, ModelKind
from core.spend import estimate_generation, next_reset, variant_cost

CASES = json.loads((Path(__file__).resolve().parents[2] / "web/src/lib/costCases.json").read_text())


def model_from(name: str) -> AIModel:
    spec: dict[str, Any] = CASES["models"][name]
    return AIModel(
        provider_id=1,
        provider_model_id=name,
        display_name=name,
        kind=ModelKind.IMAGE,
        price_credits=spec["price_credits"],
        capabilities=spec["capabilities"],
    )


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: f"{c['model']}-{c['params']}-x{c['count']}")
def test_estimate_matches_the_shared_table(case: dict[str, Any]) -> None:
    if case["total"] is None:  # no price: refused rather than reckoned as free (it would escape the budget)
        with pytest.raises(InvalidInput, match="has no price set"):
            estimate_generation(model_from(case["model"]), case["params"], case["count"], ChargeKind.GENERATE)
        assert variant_cost(model_from(case["model"]), case["params"]) is None
        return
    estimate = estimate_generation(
        model_from(case["model"]), case["params"], case["count"], ChargeKind.GENERATE
    )
    assert estimate.per_asset == case["per_asset"]
    assert estimate.total == case["total"]


def test_the_breakdown_says_how_the_figure_was_reckoned() -> None:
    seedance = model_from("bytedance/seedance-1.5-pro")
    one = estimate_generation(
        seedance, {"resolution": "1080p", "duration": 12, "generate_audio": True}, 1, ChargeKind.ANIMATE
    )
    assert one.breakdown == "12 s × 15 credits/s (1080p, with audio)"  # noqa: RUF001
    four = estimate_generation(model_from("google/nano-banana"), {}, 4, ChargeKind.GENERATE)
    assert four.breakdown == "4 × 4"  # noqa: RUF001


def test_the_day_resets_at_the_next_utc_midnight() -> None:
    assert next_reset(datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)) == datetime(2026, 11, 28, tzinfo=UTC)
    assert next_reset(datetime(2026, 11, 28, 0, 0, tzinfo=UTC)) == datetime(2026, 11, 29, tzinfo=UTC)
