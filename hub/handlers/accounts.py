"""Accounts and sign-in: login, refresh with rotation, logout, role changes, denials."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from hub.domain.accounts import STAFF_ROLES, Account, Actor, AuthSession, Role, ScopeGrant
from hub.domain.audit import AuditAction, AuditEntry, entry_by
from hub.domain.commands import (
    CreateAccount,
    GrantIn,
    Login,
    Logout,
    RecordDenial,
    Refresh,
    UpdateAccount,
)
from hub.domain.errors import Conflict, Invalid, NotFound, PermissionDenied, Unauthenticated
from hub.domain.property import Building, Site
from hub.handlers.scope import visible_resident
from hub.ports import Clock, UnitOfWork
from hub.security.passwords import MIN_LENGTH, hash_password, verify_password
from hub.security.tokens import TokenIssuer, new_refresh_token, refresh_token_hash


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


async def login(cmd: Login, uow: UnitOfWork, tokens: TokenIssuer, clock: Clock,
                refresh_ttl: timedelta) -> Tokens:
    account = await uow.find_one(Account, username=cmd.username)
    ok = verify_password(account.password_hash if account else None, cmd.password)
    if account is None or not ok or not account.active:
        # An account's username shows who is being guessed at. Text that names no account is
        # not kept: people type their password or national ID number into that box.
        uow.audit(AuditEntry(at=clock(), action=AuditAction.LOGIN_FAILED,
                             actor_id=account.id if account else None,
                             actor_role=account.role.value if account else None,
                             target=f"username:{account.username}" if account
                             else "username:(unknown)",
                             detail={"why": "disabled" if account and ok else "credentials"}))
        await uow.commit()
        raise Unauthenticated("wrong username or password")
    result = _open_session(uow, account, tokens, clock, refresh_ttl)
    uow.audit(AuditEntry(at=clock(), action=AuditAction.LOGIN, actor_id=account.id,
                         actor_role=account.role.value, target=f"account:{account.id}"))
    await uow.commit()
    return result


async def refresh(cmd: Refresh, uow: UnitOfWork, tokens: TokenIssuer, clock: Clock) -> Tokens:
    now = clock()
    session = await uow.find_one(AuthSession, refresh_hash=refresh_token_hash(cmd.refresh_token))
    if session is None or not session.live_at(now):
        raise Unauthenticated("refresh token invalid, expired or revoked")
    account = await uow.get(Account, session.account_id)
    if account is None or not account.active:
        raise Unauthenticated("account disabled")
    # Rotation: the token just used stops working.
    new_token = new_refresh_token()
    session.refresh_hash = refresh_token_hash(new_token)
    await uow.commit()
    return Tokens(tokens.access_token(session.account_id, session.id, now), new_token,
                  int(tokens.access_ttl.total_seconds()))


async def logout(cmd: Logout, uow: UnitOfWork, clock: Clock) -> None:
    session = await uow.get(AuthSession, cmd.session_id)
    if session is not None and session.account_id == cmd.actor.account_id:
        session.revoke(clock())
        uow.audit(entry_by(cmd.actor, clock(), AuditAction.LOGOUT,
                           f"account:{cmd.actor.account_id}"))
        await uow.commit()


async def create_account(cmd: CreateAccount, uow: UnitOfWork, clock: Clock) -> int:
    _password_acceptable(cmd.password)
    if cmd.role == Role.ADMIN and not cmd.actor.all_sites:
        raise PermissionDenied("only an administrator creates administrators")
    if await uow.find_one(Account, username=cmd.username):
        raise Conflict(f"username {cmd.username!r} is taken", field="username")
    if cmd.role == Role.RESIDENT:
        if cmd.resident_id is None:
            raise Invalid("a resident account needs resident_id", field="resident_id")
        await visible_resident(uow, cmd.actor, cmd.resident_id)
    elif cmd.role in STAFF_ROLES and cmd.role != Role.ADMIN and not cmd.grants:
        raise Invalid("a staff account needs at least one site or building grant",
                      field="grants")
    grants = await _grants(uow, cmd.actor, cmd.grants)
    account = Account(username=cmd.username, password_hash=hash_password(cmd.password),
                      role=cmd.role, display_name=cmd.display_name,
                      resident_id=cmd.resident_id, grants=grants)
    uow.add(account)
    await uow.flush()
    uow.audit(entry_by(cmd.actor, clock(), AuditAction.ACCOUNT_CREATED, f"account:{account.id}",
                     {"role": cmd.role.value}))
    await uow.commit()
    assert account.id is not None
    return account.id


async def update_account(cmd: UpdateAccount, uow: UnitOfWork, clock: Clock) -> None:
    account = await _visible_account(uow, cmd.actor, cmd.account_id)
    target = f"account:{account.id}"
    changed = await _change_role_and_grants(cmd, uow, account)
    if changed:  # one request, one role change: a single row for role and grants together
        uow.audit(entry_by(cmd.actor, clock(), AuditAction.ROLE_CHANGED, target, changed))
    if cmd.display_name is not None:
        account.display_name = cmd.display_name
    if cmd.password is not None:
        _password_acceptable(cmd.password)
        account.password_hash = hash_password(cmd.password)
        # A reset usually follows a leak: every session of the account ends with it.
        for login_session in await uow.find(AuthSession, account_id=account.id):
            login_session.revoke(clock())
        uow.audit(entry_by(cmd.actor, clock(), AuditAction.PASSWORD_RESET, target))
    if cmd.active is not None and cmd.active != account.active:
        if account.id == cmd.actor.account_id:
            raise Invalid("you cannot disable your own account", field="active")
        account.active = cmd.active
        if not cmd.active:
            uow.audit(entry_by(cmd.actor, clock(), AuditAction.ACCOUNT_DISABLED, target))
    await uow.commit()


async def _change_role_and_grants(cmd: UpdateAccount, uow: UnitOfWork,
                                  account: Account) -> dict[str, str]:
    """Apply the role and grant changes; return what changed, for one audit row."""
    changed: dict[str, str] = {}
    if cmd.role is not None and cmd.role != account.role:
        if Role.ADMIN in (cmd.role, account.role) and not cmd.actor.all_sites:
            raise PermissionDenied("only an administrator grants or removes administration")
        if Role.RESIDENT in (cmd.role, account.role):
            raise Invalid("residents and staff are separate accounts", field="role")
        changed.update({"from": account.role.value, "to": cmd.role.value})
        account.role = cmd.role
    if cmd.grants is not None:
        if account.role == Role.RESIDENT:
            raise Invalid("resident accounts have no grants", field="grants")
        grants = await _grants(uow, cmd.actor, cmd.grants)
        if sorted(map(_grant_text, grants)) != sorted(map(_grant_text, account.grants)):
            changed["grants"] = ",".join(_grant_text(g) for g in grants)
        account.grants = grants
    return changed


async def record_denial(cmd: RecordDenial, uow: UnitOfWork, clock: Clock) -> None:
    uow.audit(entry_by(cmd.actor, clock(), AuditAction.PERMISSION_DENIED, f"route:{cmd.route}"))
    await uow.commit()


async def _visible_account(uow: UnitOfWork, actor: Actor, account_id: int) -> Account:
    account = await uow.get(Account, account_id)
    if account is None:
        raise NotFound("account", account_id)
    if actor.all_sites:
        return account
    if account.role == Role.ADMIN:
        raise NotFound("account", account_id)
    if account.role == Role.RESIDENT and account.resident_id is not None:
        try:
            await visible_resident(uow, actor, account.resident_id)
        except NotFound:
            # Answer as for a missing account: naming the resident would confirm both exist.
            raise NotFound("account", account_id) from None
        return account
    if account.grants and all(actor.manages_site(g.site_id) for g in account.grants):
        return account
    raise NotFound("account", account_id)


async def _grants(uow: UnitOfWork, actor: Actor, wanted: tuple[GrantIn, ...]) -> list[ScopeGrant]:
    grants = []
    for grant in wanted:
        if await uow.get(Site, grant.site_id) is None or not actor.manages_site(grant.site_id):
            raise NotFound("site", grant.site_id)
        if grant.building_id is not None:
            building = await uow.get(Building, grant.building_id)
            if building is None or building.site_id != grant.site_id:
                raise NotFound("building", grant.building_id)
        grants.append(ScopeGrant(site_id=grant.site_id, building_id=grant.building_id))
    return grants


def _grant_text(grant: ScopeGrant) -> str:
    return f"{grant.site_id}" if grant.building_id is None \
        else f"{grant.site_id}/{grant.building_id}"


def _open_session(uow: UnitOfWork, account: Account, tokens: TokenIssuer, clock: Clock,
                  refresh_ttl: timedelta) -> Tokens:
    now = clock()
    assert account.id is not None
    refresh_token = new_refresh_token()
    session = AuthSession(id=str(uuid.uuid4()), account_id=account.id,
                          refresh_hash=refresh_token_hash(refresh_token), created_at=now,
                          expires_at=now + refresh_ttl)
    uow.add(session)
    return Tokens(tokens.access_token(account.id, session.id, now), refresh_token,
                  int(tokens.access_ttl.total_seconds()))


def _password_acceptable(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid(f"password must be at least {MIN_LENGTH} characters", field="password")
