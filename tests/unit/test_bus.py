"""The message bus: one handler per command, many per event, failures isolated and logged."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from hub.bus import Handler, MessageBus
from hub.domain.errors import Conflict
from hub.domain.property import Site
from hub.ports import UnitOfWork
from tests.fakes import FakeDatabase, FakeUnitOfWork


@dataclass(frozen=True)
class OpenSite:
    code: str


@dataclass(frozen=True)
class SiteOpened:
    site_id: int
    code: str


@dataclass(frozen=True)
class WelcomeSent:
    site_id: int


@dataclass(frozen=True)
class Unhandled:
    pass


async def open_site(cmd: OpenSite, uow: UnitOfWork) -> int:
    if await uow.find_one(Site, code=cmd.code):
        raise Conflict(f"site {cmd.code!r} exists", field="code")
    site = Site(code=cmd.code, name=cmd.code.title())
    uow.add(site)
    await uow.commit()
    assert site.id is not None
    uow.emit(SiteOpened(site.id, site.code))
    return site.id


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


def make_bus(db: FakeDatabase, events: dict[type, list[Handler]] | None = None) -> MessageBus:
    return MessageBus(lambda: FakeUnitOfWork(db), {OpenSite: open_site}, events or {})


async def test_a_command_goes_to_its_handler_and_returns_its_result(db: FakeDatabase) -> None:
    site_id = await make_bus(db).handle(OpenSite("lakeside"))
    assert db.stored(Site)[site_id].code == "lakeside"


async def test_a_command_error_reaches_the_caller(db: FakeDatabase) -> None:
    bus = make_bus(db)
    await bus.handle(OpenSite("lakeside"))
    with pytest.raises(Conflict, match="lakeside"):
        await bus.handle(OpenSite("lakeside"))


async def test_an_unknown_command_is_a_lookup_error(db: FakeDatabase) -> None:
    with pytest.raises(LookupError, match="Unhandled"):
        await make_bus(db).handle(Unhandled())


async def test_a_command_is_not_routed_by_its_base_class(db: FakeDatabase) -> None:
    @dataclass(frozen=True)
    class OpenBigSite(OpenSite):
        pass

    with pytest.raises(LookupError):
        await make_bus(db).handle(OpenBigSite("hilltop"))


async def test_events_go_to_every_handler_after_the_command(db: FakeDatabase) -> None:
    seen: list[tuple[str, object, int]] = []

    async def notify_staff(event: SiteOpened, uow: UnitOfWork) -> None:
        seen.append(("staff", event, len(db.stored(Site))))

    async def notify_residents(event: SiteOpened, uow: UnitOfWork) -> None:
        seen.append(("residents", event, len(db.stored(Site))))

    site_id = await make_bus(db, {SiteOpened: [notify_staff, notify_residents]}).handle(
        OpenSite("lakeside"))
    # Each handler ran once, after the command's commit: the site was already stored.
    assert seen == [("staff", SiteOpened(site_id, "lakeside"), 1),
                    ("residents", SiteOpened(site_id, "lakeside"), 1)]


async def test_event_handlers_each_get_their_own_unit_of_work(db: FakeDatabase) -> None:
    units: list[UnitOfWork] = []

    async def first(event: SiteOpened, uow: UnitOfWork) -> None:
        units.append(uow)

    async def second(event: SiteOpened, uow: UnitOfWork) -> None:
        units.append(uow)

    await make_bus(db, {SiteOpened: [first, second]}).handle(OpenSite("lakeside"))
    assert len(units) == 2 and units[0] is not units[1]


async def test_events_raised_by_event_handlers_are_published_too(db: FakeDatabase) -> None:
    welcomed: list[WelcomeSent] = []

    async def send_welcome(event: SiteOpened, uow: UnitOfWork) -> None:
        uow.emit(WelcomeSent(event.site_id))

    async def record_welcome(event: WelcomeSent, uow: UnitOfWork) -> None:
        welcomed.append(event)

    site_id = await make_bus(db, {SiteOpened: [send_welcome], WelcomeSent: [record_welcome]}) \
        .handle(OpenSite("lakeside"))
    assert welcomed == [WelcomeSent(site_id)]


async def test_a_failing_event_handler_is_logged_and_isolated(
        db: FakeDatabase, caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    async def broken(event: SiteOpened, uow: UnitOfWork) -> None:
        ran.append("broken")
        raise RuntimeError("notifier down")

    async def healthy(event: SiteOpened, uow: UnitOfWork) -> None:
        ran.append("healthy")

    bus = make_bus(db, {SiteOpened: [broken, healthy]})
    with caplog.at_level(logging.ERROR, logger="hub.bus"):
        site_id = await bus.handle(OpenSite("lakeside"))
    assert site_id in db.stored(Site)
    assert ran == ["broken", "healthy"]
    [record] = [r for r in caplog.records if r.name == "hub.bus"]
    assert "broken" in record.getMessage() and "SiteOpened" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


async def test_a_failing_event_handler_keeps_none_of_its_writes(db: FakeDatabase) -> None:
    async def half_done(event: SiteOpened, uow: UnitOfWork) -> None:
        uow.add(Site(code="half-done", name="Half done"))
        raise RuntimeError("gave up before commit")

    await make_bus(db, {SiteOpened: [half_done]}).handle(OpenSite("lakeside"))
    assert [s.code for s in db.stored(Site).values()] == ["lakeside"]


async def test_a_failed_command_publishes_nothing(db: FakeDatabase) -> None:
    published: list[object] = []

    async def emit_then_fail(cmd: OpenSite, uow: UnitOfWork) -> None:
        uow.emit(SiteOpened(1, cmd.code))
        raise Conflict("no")

    async def listen(event: SiteOpened, uow: UnitOfWork) -> None:
        published.append(event)

    bus = MessageBus(lambda: FakeUnitOfWork(db), {OpenSite: emit_then_fail},
                     {SiteOpened: [listen]})
    with pytest.raises(Conflict):
        await bus.handle(OpenSite("lakeside"))
    assert published == []


async def test_events_without_handlers_are_dropped_quietly(db: FakeDatabase) -> None:
    assert await make_bus(db).handle(OpenSite("lakeside")) in db.stored(Site)
