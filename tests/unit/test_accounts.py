"""Accounts and the scope an actor sees: admins, whole-site and building grants, residents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.domain.accounts import (
    PHONE_VISIBLE_ROLES,
    SYSTEM,
    Account,
    Actor,
    AuthSession,
    Role,
    ScopeGrant,
    actor_for,
)
from hub.domain.errors import Invalid

LAKESIDE, HILLTOP = 1, 2
B1, B2, B3 = 11, 12, 13  # buildings of lakeside
H1 = 21  # a building of hilltop
BUILDING_SITES = {B1: LAKESIDE, B2: LAKESIDE, B3: LAKESIDE, H1: HILLTOP}


def account(role: Role, *grants: ScopeGrant, resident_id: int | None = None) -> Account:
    return Account(username=f"{role.value}-1", password_hash="x", role=role, id=7,
                   resident_id=resident_id, grants=list(grants))


def test_admin_sees_every_site_building_and_unit() -> None:
    admin = actor_for(account(Role.ADMIN), building_sites=BUILDING_SITES)
    assert admin.all_sites
    assert admin.sees_site(LAKESIDE) and admin.sees_site(999)
    assert admin.sees_building(HILLTOP, H1)
    assert admin.sees_unit(HILLTOP, H1, 5)
    assert admin.manages_site(999)


def test_whole_site_grant_sees_that_site_and_nothing_else() -> None:
    manager = actor_for(account(Role.MANAGER, ScopeGrant(site_id=LAKESIDE)),
                        building_sites=BUILDING_SITES)
    assert manager.whole_sites == {LAKESIDE}
    assert manager.sees_site(LAKESIDE) and not manager.sees_site(HILLTOP)
    assert manager.sees_building(LAKESIDE, B3)
    assert manager.sees_unit(LAKESIDE, B2, 301)
    assert not manager.sees_building(HILLTOP, H1)
    assert manager.manages_site(LAKESIDE) and not manager.manages_site(HILLTOP)


def test_building_grant_sees_its_buildings_and_their_site_only() -> None:
    tech = actor_for(account(Role.MAINTENANCE, ScopeGrant(LAKESIDE, B1), ScopeGrant(LAKESIDE, B3)),
                     building_sites=BUILDING_SITES)
    assert tech.buildings == {B1, B3}
    assert tech.partial_sites == {LAKESIDE}
    assert tech.whole_sites == frozenset()
    assert tech.sees_site(LAKESIDE) and not tech.sees_site(HILLTOP)
    assert tech.sees_building(LAKESIDE, B1) and tech.sees_building(LAKESIDE, B3)
    assert not tech.sees_building(LAKESIDE, B2)
    assert tech.sees_unit(LAKESIDE, B1, 101) and not tech.sees_unit(LAKESIDE, B2, 201)


def test_building_grant_does_not_manage_the_site() -> None:
    desk = actor_for(account(Role.SERVICE_DESK, ScopeGrant(LAKESIDE, B2)),
                     building_sites=BUILDING_SITES)
    assert not desk.manages_site(LAKESIDE)


def test_mixed_grants_across_sites() -> None:
    guard = actor_for(account(Role.SECURITY, ScopeGrant(HILLTOP), ScopeGrant(LAKESIDE, B2)),
                      building_sites=BUILDING_SITES)
    assert guard.whole_sites == {HILLTOP}
    assert guard.partial_sites == {LAKESIDE}
    assert guard.manages_site(HILLTOP) and not guard.manages_site(LAKESIDE)
    assert guard.sees_building(HILLTOP, H1) and guard.sees_building(LAKESIDE, B2)
    assert not guard.sees_building(LAKESIDE, B1)


def test_building_grant_of_an_unknown_building_adds_no_site() -> None:
    tech = actor_for(account(Role.MAINTENANCE, ScopeGrant(LAKESIDE, 404)),
                     building_sites=BUILDING_SITES)
    assert tech.partial_sites == frozenset()
    assert not tech.sees_site(LAKESIDE)


def test_staff_without_grants_sees_nothing() -> None:
    finance = actor_for(account(Role.FINANCE), building_sites=BUILDING_SITES)
    assert not finance.sees_site(LAKESIDE)
    assert not finance.sees_building(LAKESIDE, B1)
    assert not finance.manages_site(LAKESIDE)


def test_resident_sees_only_their_households() -> None:
    resident = actor_for(account(Role.RESIDENT, resident_id=42), building_sites=BUILDING_SITES,
                         household=frozenset({101}), household_sites=frozenset({LAKESIDE}))
    assert resident.is_resident
    assert resident.resident_id == 42
    assert resident.unit_ids == {101}
    assert resident.sees_unit(LAKESIDE, B1, 101)
    assert not resident.sees_unit(LAKESIDE, B1, 102)
    assert resident.sees_site(LAKESIDE) and not resident.sees_site(HILLTOP)
    assert not resident.sees_building(LAKESIDE, B1)
    assert not resident.manages_site(LAKESIDE)


def test_resident_grants_are_ignored() -> None:
    # Grants belong to staff; a resident's scope comes from their households alone.
    resident = actor_for(account(Role.RESIDENT, ScopeGrant(LAKESIDE), resident_id=42),
                         building_sites=BUILDING_SITES)
    assert not resident.manages_site(LAKESIDE)
    assert resident.unit_ids == frozenset()


@pytest.mark.parametrize("role", sorted(PHONE_VISIBLE_ROLES))
def test_roles_that_talk_to_residents_see_phones(role: Role) -> None:
    assert Actor(account_id=1, role=role).sees_phone_of(42)


@pytest.mark.parametrize("role", sorted(frozenset(Role) - PHONE_VISIBLE_ROLES))
def test_other_roles_see_phones_masked(role: Role) -> None:
    assert not Actor(account_id=1, role=role, whole_sites=frozenset({LAKESIDE})).sees_phone_of(42)


def test_resident_sees_their_own_phone_only() -> None:
    resident = Actor(account_id=3, role=Role.RESIDENT, unit_ids=frozenset({101}), resident_id=42)
    assert resident.sees_phone_of(42)
    assert not resident.sees_phone_of(43)


def test_finance_and_guards_do_not_see_phones() -> None:
    assert Role.FINANCE not in PHONE_VISIBLE_ROLES
    assert Role.SECURITY not in PHONE_VISIBLE_ROLES
    assert {Role.ADMIN, Role.MANAGER, Role.SERVICE_DESK} <= PHONE_VISIBLE_ROLES


def test_system_actor_is_an_admin_of_everything() -> None:
    assert SYSTEM.all_sites and SYSTEM.role == Role.ADMIN and SYSTEM.manages_site(LAKESIDE)


@pytest.mark.parametrize("username", ["ab", "x" * 65, "wang li", "李雷", "bob\n", "bob;drop"])
def test_bad_usernames_are_refused(username: str) -> None:
    with pytest.raises(Invalid) as caught:
        Account(username=username, password_hash="x", role=Role.MANAGER)
    assert caught.value.field == "username"


@pytest.mark.parametrize("username", ["bob", "wang.li@lakeside", "tech_01", "a-b"])
def test_good_usernames_are_accepted(username: str) -> None:
    assert Account(username=username, password_hash="x", role=Role.MANAGER).username == username


def test_resident_account_needs_a_resident() -> None:
    with pytest.raises(Invalid) as caught:
        Account(username="resident1", password_hash="x", role=Role.RESIDENT)
    assert caught.value.field == "resident_id"


def test_staff_account_links_no_resident() -> None:
    with pytest.raises(Invalid) as caught:
        Account(username="desk", password_hash="x", role=Role.SERVICE_DESK, resident_id=42)
    assert caught.value.field == "resident_id"


AT = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def test_auth_session_is_live_until_expiry_or_revocation() -> None:
    session = AuthSession(id="s1", account_id=7, refresh_hash="h", created_at=AT,
                          expires_at=AT + timedelta(days=14))
    assert session.live_at(AT + timedelta(days=13))
    assert not session.live_at(AT + timedelta(days=14))
    session.revoke(AT + timedelta(hours=1))
    assert not session.live_at(AT + timedelta(hours=2))


def test_revoking_twice_keeps_the_first_time() -> None:
    session = AuthSession(id="s1", account_id=7, refresh_hash="h", created_at=AT,
                          expires_at=AT + timedelta(days=14))
    session.revoke(AT + timedelta(hours=1))
    session.revoke(AT + timedelta(hours=5))
    assert session.revoked_at == AT + timedelta(hours=1)
