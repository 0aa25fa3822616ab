"""The SQL unit of work on each backend: round trips, rollback, conflicts, the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from hub.domain.accounts import Account, AuthSession, Role, ScopeGrant
from hub.domain.audit import AuditAction, AuditEntry
from hub.domain.errors import Conflict
from hub.domain.property import Building, Orientation, Site, Unit, UnitStatus
from hub.domain.residents import Relation, Residency, Resident
from hub.store import tables
from hub.store.uow import SqlUnitOfWork

NewUow = Callable[[], SqlUnitOfWork]


async def _premises(new_uow: NewUow) -> tuple[int, int, int]:
    """lakeside / b3 / 1201, committed; their ids."""
    async with new_uow() as uow:
        site = Site(code="lakeside", name="Lakeside Gardens 湖畔花园")
        uow.add(site)
        await uow.flush()
        assert site.id is not None
        building = Building(site_id=site.id, code="b3", name="Building 3", floors=18)
        uow.add(building)
        await uow.flush()
        assert building.id is not None
        unit = Unit(site_id=site.id, building_id=building.id, number="1201", floor=12,
                    gross_area=Decimal("89.75"), inner_area=Decimal("72.30"), layout="3房2厅",
                    orientation=Orientation.NS, status=UnitStatus.OCCUPIED)
        uow.add(unit)
        await uow.commit()
        assert unit.id is not None
        return site.id, building.id, unit.id


async def _count(new_uow: NewUow, table: object) -> int:
    async with new_uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(table))


async def test_site_building_and_unit_come_back_as_stored_with_exact_areas(
        new_uow: NewUow) -> None:
    site_id, building_id, unit_id = await _premises(new_uow)

    async with new_uow() as uow:
        site = await uow.get(Site, site_id)
        building = await uow.get(Building, building_id)
        unit = await uow.get(Unit, unit_id)

        assert site is not None and site.code == "lakeside"
        assert (site.name, site.timezone) == ("Lakeside Gardens 湖畔花园", "Asia/Shanghai")
        assert building is not None and (building.site_id, building.code) == (site_id, "b3")
        assert unit is not None
        assert unit.gross_area == Decimal("89.75") and isinstance(unit.gross_area, Decimal)
        assert unit.inner_area == Decimal("72.30") and isinstance(unit.inner_area, Decimal)
        assert (unit.layout, unit.orientation, unit.status) == ("3房2厅", Orientation.NS,
                                                                UnitStatus.OCCUPIED)
        assert isinstance(unit.status, UnitStatus) and isinstance(unit.orientation, Orientation)


async def test_find_returns_every_match_and_find_one_the_first_or_none(new_uow: NewUow) -> None:
    site_id, building_id, _ = await _premises(new_uow)
    async with new_uow() as uow:
        uow.add(Unit(site_id=site_id, building_id=building_id, number="1202", floor=12,
                     gross_area=Decimal("120.05"), inner_area=Decimal("100.00")))
        uow.add(Unit(site_id=site_id, building_id=building_id, number="0101", floor=1,
                     gross_area=Decimal("60.00"), inner_area=Decimal("50.00")))
        await uow.commit()

    async with new_uow() as uow:
        twelfth = await uow.find(Unit, building_id=building_id, floor=12)
        vacant = await uow.find_one(Unit, status=UnitStatus.VACANT, number="0101")
        missing = await uow.find_one(Unit, number="9999")
        nothing = await uow.find(Site, code="riverside")

        assert sorted(u.number for u in twelfth) == ["1201", "1202"]
        assert vacant is not None and vacant.gross_area == Decimal("60.00")
        assert missing is None
        assert list(nothing) == []


async def test_resident_and_residency_round_trip(new_uow: NewUow) -> None:
    site_id, _, unit_id = await _premises(new_uow)
    async with new_uow() as uow:
        resident = Resident(site_id=site_id, name="王小明", phone="13800138000")
        uow.add(resident)
        await uow.flush()
        assert resident.id is not None
        uow.add(Residency(resident_id=resident.id, unit_id=unit_id, relation=Relation.OWNER,
                          moved_in=date(2021, 3, 15)))
        await uow.commit()
        resident_id = resident.id

    async with new_uow() as uow:
        stored = await uow.get(Resident, resident_id)
        residencies = await uow.find(Residency, resident_id=resident_id)

        assert stored is not None and (stored.name, stored.phone) == ("王小明", "13800138000")
        assert stored.national_id_cipher is None
        assert [(r.unit_id, r.relation, r.moved_in, r.moved_out) for r in residencies] == [
            (unit_id, Relation.OWNER, date(2021, 3, 15), None)]


async def test_account_grants_are_stored_and_loaded_with_the_account(new_uow: NewUow) -> None:
    site_id, building_id, _ = await _premises(new_uow)
    async with new_uow() as uow:
        account = Account(username="li.lei", password_hash="argon2-hash", role=Role.MAINTENANCE,
                          grants=[ScopeGrant(site_id=site_id),
                                  ScopeGrant(site_id=site_id, building_id=building_id)])
        uow.add(account)
        await uow.commit()
        account_id = account.id

    async with new_uow() as uow:
        stored = await uow.find_one(Account, username="li.lei")
        assert stored is not None
        assert stored.id == account_id and stored.role is Role.MAINTENANCE and stored.active
        assert sorted((g.site_id, g.building_id or 0) for g in stored.grants) == [
            (site_id, 0), (site_id, building_id)]

        stored.grants = [ScopeGrant(site_id=site_id, building_id=building_id)]
        await uow.commit()

    # delete-orphan: the replaced grant is gone, not left pointing at nothing.
    assert await _count(new_uow, tables.account_grants) == 1


async def test_auth_session_times_come_back_aware_and_equal(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        account = Account(username="han.meimei", password_hash="argon2-hash", role=Role.FINANCE)
        uow.add(account)
        await uow.flush()
        assert account.id is not None
        # Given in Beijing time: stored as UTC, read back as the same instant.
        created = datetime(2026, 11, 26, 8, 0, 0, 250_000, tzinfo=timezone(timedelta(hours=8)))
        uow.add(AuthSession(id="5f0c6a1e-0b4e-4a36-9a38-6d1d3c0b2a11", account_id=account.id,
                            refresh_hash="ab" * 32, created_at=created,
                            expires_at=created + timedelta(days=14)))
        await uow.commit()

    async with new_uow() as uow:
        session = await uow.get(AuthSession, "5f0c6a1e-0b4e-4a36-9a38-6d1d3c0b2a11")

        assert session is not None
        assert session.created_at.utcoffset() == timedelta(0)
        assert session.created_at == created
        assert session.created_at == datetime(2026, 11, 26, 0, 0, 0, 250_000, tzinfo=UTC)
        assert session.expires_at == created + timedelta(days=14)
        assert session.revoked_at is None


async def test_a_naive_datetime_is_refused(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        uow.audit(AuditEntry(at=datetime(2026, 11, 26, 8, 0), action=AuditAction.LOGIN,
                             actor_id=1, actor_role="admin"))
        with pytest.raises(StatementError, match="naive datetime"):
            await uow.commit()


async def test_audit_entry_keeps_its_json_detail(new_uow: NewUow) -> None:
    at = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    async with new_uow() as uow:
        uow.audit(AuditEntry(at=at, action=AuditAction.PII_REVEALED, actor_id=1,
                             actor_role="admin", target="resident:12",
                             detail={"field": "national_id", "reason": "产权变更 核对身份"}))
        await uow.commit()

    async with new_uow() as uow:
        entry = await uow.find_one(AuditEntry, target="resident:12")

        assert entry is not None
        assert entry.detail == {"field": "national_id", "reason": "产权变更 核对身份"}
        assert (entry.at, entry.action, entry.actor_id) == (at, AuditAction.PII_REVEALED, 1)


async def test_leaving_the_block_without_commit_stores_nothing(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        uow.add(Site(code="lakeside", name="Lakeside"))
        await uow.flush()

    async with new_uow() as uow:
        assert await uow.find(Site) == []


async def test_duplicate_site_code_is_a_conflict_and_stores_nothing(new_uow: NewUow) -> None:
    await _premises(new_uow)

    async with new_uow() as uow:
        uow.add(Site(code="riverside", name="Riverside"))
        uow.add(Site(code="lakeside", name="Another Lakeside"))
        with pytest.raises(Conflict):
            await uow.commit()

    async with new_uow() as uow:
        sites = await uow.find(Site)
        assert [(s.code, s.name) for s in sites] == [("lakeside", "Lakeside Gardens 湖畔花园")]


async def test_duplicate_unit_number_is_a_conflict_and_stores_nothing(new_uow: NewUow) -> None:
    site_id, building_id, unit_id = await _premises(new_uow)

    async with new_uow() as uow:
        uow.add(Unit(site_id=site_id, building_id=building_id, number="1201", floor=12,
                     gross_area=Decimal("50.00"), inner_area=Decimal("40.00")))
        with pytest.raises(Conflict):
            await uow.commit()

    async with new_uow() as uow:
        units = await uow.find(Unit, building_id=building_id)
        assert [(u.id, u.gross_area) for u in units] == [(unit_id, Decimal("89.75"))]


async def test_same_unit_number_in_another_building_is_fine(new_uow: NewUow) -> None:
    site_id, _, _ = await _premises(new_uow)
    async with new_uow() as uow:
        b5 = Building(site_id=site_id, code="b5", name="Building 5", floors=6)
        uow.add(b5)
        await uow.flush()
        assert b5.id is not None
        uow.add(Unit(site_id=site_id, building_id=b5.id, number="1201", floor=6,
                     gross_area=Decimal("50.00"), inner_area=Decimal("40.00")))
        await uow.commit()

    assert await _count(new_uow, tables.units) == 2


async def _one_audit_entry(new_uow: NewUow) -> int:
    async with new_uow() as uow:
        entry = AuditEntry(at=datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
                           action=AuditAction.ROLE_CHANGED, actor_id=1, actor_role="admin",
                           target="account:7", detail={"from": "finance", "to": "manager"})
        uow.audit(entry)
        await uow.commit()
        assert entry.id is not None
        return entry.id


async def test_changing_an_audit_entry_is_refused_on_flush(new_uow: NewUow) -> None:
    entry_id = await _one_audit_entry(new_uow)

    async with new_uow() as uow:
        entry = await uow.get(AuditEntry, entry_id)
        assert entry is not None
        entry.target = "account:8"
        with pytest.raises(PermissionError, match="append-only"):
            await uow.flush()

    async with new_uow() as uow:
        unchanged = await uow.get(AuditEntry, entry_id)
        assert unchanged is not None and unchanged.target == "account:7"


async def test_deleting_an_audit_entry_is_refused_on_flush(new_uow: NewUow) -> None:
    entry_id = await _one_audit_entry(new_uow)

    async with new_uow() as uow:
        entry = await uow.get(AuditEntry, entry_id)
        await uow.delete(entry)
        with pytest.raises(PermissionError, match="append-only"):
            await uow.flush()

    assert await _count(new_uow, tables.audit_log) == 1


async def test_a_building_of_a_missing_site_is_refused_by_the_foreign_key(
        new_uow: NewUow) -> None:
    async with new_uow() as uow:
        uow.add(Building(site_id=404, code="b3", name="Building 3", floors=18))
        with pytest.raises(Conflict):
            await uow.commit()

    assert await _count(new_uow, tables.buildings) == 0
