"""The edges of billing: meter telemetry into readings, the sandbox's signatures, idempotency
keys, and cycles other than a month."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from hub.domain.billing.fees import FeeItem, FeeKind, PriceVersion
from hub.domain.billing.idempotency import check_key, request_hash
from hub.domain.billing.meters import MeterBinding, MeterSample, readings_from_telemetry
from hub.domain.billing.periods import Cycle, parse_period
from hub.domain.billing.run import RunInput, UnitFacts, plan_run
from hub.domain.errors import Invalid
from hub.payments.sandbox import SandboxProvider, sandbox_secret

D = Decimal
AT = datetime(2026, 12, 5, tzinfo=UTC)


def test_meter_telemetry_becomes_one_reading_per_attributed_month() -> None:
    samples = [
        MeterSample(9, datetime(2026, 12, 2, 8, tzinfo=UTC), 1025.4),
        MeterSample(9, datetime(2026, 12, 3, 8, tzinfo=UTC), 1025.5),  # latest for November
        MeterSample(9, datetime(2026, 11, 10, 8, tzinfo=UTC), 1003.25),  # October's
        MeterSample(4, datetime(2026, 12, 3, 8, tzinfo=UTC), 77.0),  # not bound: ignored
    ]
    readings = readings_from_telemetry(samples, {9: MeterBinding(unit_id=3, site_id=1,
                                                                 meter="water")}, AT)
    assert [(r.period, r.value, r.unit_id, r.source.value) for r in readings] == [
        ("2026-10", D("1003.250"), 3, "telemetry"), ("2026-11", D("1025.500"), 3, "telemetry")]


def test_sandbox_callbacks_verify_only_with_the_hub_secret() -> None:
    provider = SandboxProvider(sandbox_secret(b"hub-secret-for-tests-0123456789"))
    body, signature = provider.callback("sbx-1-abc", D("160.91"), event_id="e-1")
    event = provider.verify(body, signature)
    assert (event.event_id, event.provider_ref, event.amount, event.succeeded) == (
        "e-1", "sbx-1-abc", D("160.91"), True)
    for bad in (None, "", "0" * 64, signature[:-1]):
        with pytest.raises(Invalid, match="signature"):
            provider.verify(body, bad)
    with pytest.raises(Invalid, match="signature"):
        provider.verify(body.replace(b"160.91", b"1.00"), signature)
    junk = b'{"amount": "NaN"}'
    with pytest.raises(Invalid, match="not a sandbox event"):
        provider.verify(junk, provider.sign(junk))


def test_idempotency_keys_and_request_hashes() -> None:
    assert check_key(" abc-123 ") == "abc-123"
    for bad in (None, "", "   ", "x" * 101, "ключ", "a\nb"):
        with pytest.raises(Invalid, match="Idempotency-Key"):
            check_key(bad)
    assert request_hash("POST /payments", {"a": "1", "b": 2}) == \
        request_hash("POST /payments", {"b": 2, "a": "1"})
    assert request_hash("POST /payments", {"amount": "10.00"}) != \
        request_hash("POST /payments", {"amount": "10.01"})


def test_a_quarterly_area_fee_bills_three_months_and_falls_due_after_the_quarter() -> None:
    item = FeeItem(site_id=1, code="property", name="物业费", kind=FeeKind.AREA,
                   cycle=Cycle.QUARTERLY, due_day=10)
    item.id = 1
    prepaid = FeeItem(site_id=1, code="parking", name="车位", kind=FeeKind.PARKING,
                      cycle=Cycle.QUARTERLY, prepaid=True, due_day=5, quantities={"1": "1"})
    prepaid.id = 2
    q4 = parse_period("2026-Q4")
    plan = plan_run(RunInput(q4, q4.end, [
        (item, [PriceVersion(1, date(2026, 1, 1), D("2.35"))]),
        (prepaid, [PriceVersion(2, date(2026, 1, 1), D("150"))])],
        [UnitFacts(1, 1, "1-101", D("100.00"), D("80.00"), False)]))
    assert [(ln.amount, ln.due_date) for ln in plan.lines] == [
        (D("705.00"), date(2027, 1, 10)),  # 100 × 2.35 × 3 months, postpaid
        (D("450.00"), date(2026, 10, 5)),  # 1 space × 150 × 3, prepaid
    ]


def test_a_price_version_refuses_a_negative_price_or_bad_tiers() -> None:
    with pytest.raises(Invalid, match="unit_price"):
        PriceVersion(1, date(2026, 1, 1), D("-1"))
    with pytest.raises(Invalid) as bad:
        PriceVersion(1, date(2026, 1, 1), D("0"), tiers=[{"up_to": "x", "price": "1"}])
    assert bad.value.field == "tiers.0"
