"""Line protocol: one `telemetry` measurement, tags site/kind/device, a float field per metric."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.domain.observations import DeviceKey, Sample
from hub.telemetry.lines import micros, name, to_lines

MORNING = datetime(2026, 11, 26, 8, 0, 0, 120_000, tzinfo=UTC)  # DESIGN.md's example ts
LIFT = DeviceKey("lakeside", "elevator", "lift-1")


def test_samples_of_one_device_at_one_instant_share_a_line() -> None:
    lines, skipped = to_lines([Sample(7, "floor", MORNING, value=5),
                               Sample(7, "door", MORNING, text="closed")], {7: LIFT})

    assert lines == ['telemetry,site=lakeside,kind=elevator,device=lift-1 '
                     'floor=5.0,door_text="closed" 1795680000120000']
    assert skipped == 0


def test_values_are_always_floats_so_field_types_never_conflict() -> None:
    lines, _ = to_lines([Sample(7, "trips", MORNING, value=104_233),
                         Sample(7, "occupied", MORNING.replace(second=1), value=True)],
                        {7: LIFT})

    assert [line.split(" ")[1] for line in lines] == ["trips=104233.0", "occupied=1.0"]


def test_unknown_devices_and_non_finite_values_are_skipped_and_counted() -> None:
    lines, skipped = to_lines([Sample(7, "speed_mm_s", MORNING, value=float("nan")),
                               Sample(7, "load", MORNING, value=float("inf")),
                               Sample(99, "floor", MORNING, value=3),
                               Sample(7, "floor", MORNING, value=3)], {7: LIFT})

    assert skipped == 3
    assert lines == ["telemetry,site=lakeside,kind=elevator,device=lift-1 floor=3.0 "
                     "1795680000120000"]


def test_separators_in_names_and_quotes_in_words_are_escaped() -> None:
    odd = DeviceKey("lake side", "gate,in", "g=1")
    lines, _ = to_lines([Sample(3, "plate", MORNING, text='沪A "12345" \\')], {3: odd})

    assert lines == [r'telemetry,site=lake\ side,kind=gate\,in,device=g\=1 '
                     r'plate_text="沪A \"12345\" \\" 1795680000120000']


def test_a_newline_cannot_start_a_second_line() -> None:
    assert "\n" not in name("floor\ninjected,site=x value=1")


def test_microseconds_are_exact_far_from_the_epoch() -> None:
    assert micros(datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == \
        4_102_444_799_999_999
