"""A guard opens a lane by hand through the API: a decision with the guard's account and
reason, a car waiting to pay there let out with its fee still due, audited; another site's
lane does not exist for them."""

from __future__ import annotations

from tests.integration.api.conftest import Api
from tests.integration.api.probing import audit_rows


async def test_a_guard_opens_a_lane_and_lets_the_waiting_car_out(api: Api) -> None:
    w = api.world
    opened = await api.client.post(f"/api/v1/parking/lanes/{w.lane_lakeside}/open",
                                   json={"reason": "plate unreadable, checked by hand"},
                                   headers=w.auth("guard"))
    assert opened.status_code == 200, opened.text
    decision = opened.json()
    assert decision["by_account"] == w.accounts["guard"]
    assert decision["session_id"] == w.session_b  # B's car waited there with ¥7.00 due
    assert "plate unreadable" in decision["reasons"][0]
    session = (await api.client.get(f"/api/v1/parking/sessions/{w.session_b}",
                                    headers=w.auth("guard"))).json()
    assert session["state"] == "left" and session["needs_review"]
    assert session["charge"]["status"] == "due"
    (audit,) = await audit_rows(api, "parking_override")
    assert audit["detail"] == {"change": "opened", "decision": str(decision["id"])}
    foreign = await api.client.post(f"/api/v1/parking/lanes/{w.lane_river}/open",
                                    json={"reason": "x"}, headers=w.auth("guard"))
    assert foreign.status_code == 404
