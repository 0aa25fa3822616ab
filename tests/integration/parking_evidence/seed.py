"""Gate decisions with a snapshot for the API's world (tests/integration/api/world.py): one
at lakeside's gate, one at riverside's. Their files are not in the world's template (it
keeps only the database); a test that wants the pictures writes them into its hub's store."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from hub.bootstrap import Hub
from hub.domain.parking.sessions import Verdict
from hub.domain.parking.standing import Direction
from hub.store.parking_session_tables import parking_gate_decisions

AT = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def snapshot_ref_of(site: str) -> str:
    return hashlib.sha256(f"snapshot at {site}".encode()).hexdigest() + ".jpg"


async def seed_gate_evidence(hub: Hub, w: Any) -> None:
    async with hub.engine.begin() as connection:
        for site_id, site, attribute in ((w.lakeside, "lakeside", "decision_lakeside"),
                                         (w.riverside, "riverside", "decision_river")):
            decision_id = (await connection.execute(insert(parking_gate_decisions).values(
                site_id=site_id, lot_id=1, lane_id=1, direction=Direction.IN.value,
                verdict=Verdict.OPEN.value, reasons=["read from the snapshot (confidence 0.97)"],
                at=AT, received_at=AT, plate_read=None, plate="沪A11111", confidence=0.97,
                snapshot_ref=snapshot_ref_of(site), boot="seed")
                .returning(parking_gate_decisions.c.id))).scalar_one()
            setattr(w, attribute, decision_id)
