"""Work orders by people: staff open, dispatch and work them; residents file repairs for their
own household and confirm them; managers keep the roster. Faults: hub.handlers.work_order_faults.

Every order is loaded through the actor's scope first, so an order out of scope is "not
found" before any other check can say something about it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from hub.domain.accounts import Account, Actor, Role
from hub.domain.errors import Conflict, Invalid, NotFound
from hub.domain.outcomes import (
    AnnotateOrder,
    ClearFault,
    OrderCancelled,
    OrderReopened,
    OrderResolved,
    OrderSource,
    Priority,
    RaiseFault,
)
from hub.domain.property import Unit
from hub.domain.registry import Asset, Device
from hub.domain.work_orders import (
    DEFAULT_POLICY,
    By,
    MaterialLine,
    OrderPolicy,
    RosterEntry,
    WorkOrder,
)
from hub.domain.work_orders.commands import (
    Action,
    ActOnOrder,
    AddMaterial,
    AssignOrder,
    ConfirmRepair,
    NoteOrder,
    OpenOrder,
    ResolveOrder,
    SetRoster,
    SubmitRepair,
)
from hub.handlers import work_order_faults as faults
from hub.handlers.scope import managed_site, visible_building
from hub.ports import Clock, UnitOfWork

WORKERS = frozenset({Role.MAINTENANCE, Role.MANAGER, Role.ADMIN})
__all__ = [
    "COMMAND_HANDLERS",
    "ActOnOrder",
    "Action",
    "AddMaterial",
    "AssignOrder",
    "ConfirmRepair",
    "NoteOrder",
    "OpenOrder",
    "OrderPolicy",
    "ResolveOrder",
    "SetRoster",
    "SubmitRepair",
    "sees_order",
    "visible_order",
]


def sees_order(actor: Actor, order: WorkOrder) -> bool:
    """Residents: their household's orders. Staff: the building's, or the site's when the order
    is in no building (a gate, a public lawn) and they hold the whole site."""
    if actor.is_resident:
        return order.unit_id is not None and order.unit_id in actor.unit_ids
    if order.building_id is not None:
        return actor.sees_building(order.site_id, order.building_id)
    return actor.manages_site(order.site_id)


async def visible_order(uow: UnitOfWork, actor: Actor, order_id: int) -> WorkOrder:
    order = await uow.get(WorkOrder, order_id)
    if order is None or not sees_order(actor, order):
        raise NotFound("work order", order_id)
    return order


async def commit(uow: UnitOfWork, order: WorkOrder) -> None:
    try:
        await uow.commit()
    except StaleDataError:
        await uow.rollback()
        raise Conflict(f"work order {order.id} was changed meanwhile: reload it and try "
                       "again") from None


async def open_order(cmd: OpenOrder, uow: UnitOfWork, clock: Clock,
                     order_policy: OrderPolicy = DEFAULT_POLICY) -> int:
    building_id = await _place(uow, cmd)
    at = clock()
    by = By.account(cmd.actor.account_id)

    async def attempt() -> int:
        order = WorkOrder(
            site_id=cmd.site_id, title=cmd.title, category=cmd.category, priority=cmd.priority,
            source=cmd.source, opened_at=at, description=cmd.description,
            device_id=cmd.device_id, asset_id=cmd.asset_id, building_id=building_id,
            unit_id=cmd.unit_id, area=cmd.area, reporter_id=cmd.actor.account_id or None,
            checklist=list(cmd.checklist), due_at=cmd.due_at)
        order.opened(by, order_policy.terms(cmd.category, cmd.priority))
        return await faults.add_and_dispatch(uow, order, order_policy, by)

    return await faults.retrying(uow, attempt, "new work order")


async def _place(uow: UnitOfWork, cmd: OpenOrder) -> int | None:
    """Where the order is, each part in the actor's scope; the building follows from a unit or
    a device when not given."""
    building_id = cmd.building_id
    if cmd.unit_id is not None:
        unit = await uow.get(Unit, cmd.unit_id)
        if unit is None or unit.site_id != cmd.site_id or (
                building_id is not None and unit.building_id != building_id):
            raise NotFound("unit", cmd.unit_id)
        building_id = unit.building_id
    if cmd.device_id is not None:
        device = await uow.get(Device, cmd.device_id)
        if device is None or device.site_id != cmd.site_id:
            raise NotFound("device", cmd.device_id)
        building_id = building_id if building_id is not None else device.building_id
    if cmd.asset_id is not None:
        asset = await uow.get(Asset, cmd.asset_id)
        if asset is None or asset.site_id != cmd.site_id:
            raise NotFound("asset", cmd.asset_id)
        building_id = building_id if building_id is not None else asset.building_id
    if building_id is None:
        await managed_site(uow, cmd.actor, cmd.site_id)
        return None
    building = await visible_building(uow, cmd.actor, building_id)
    if building.site_id != cmd.site_id:
        raise NotFound("building", building_id)
    return building_id


async def submit_repair(cmd: SubmitRepair, uow: UnitOfWork, clock: Clock,
                        order_policy: OrderPolicy = DEFAULT_POLICY) -> int:
    if not cmd.actor.is_resident or cmd.unit_id not in cmd.actor.unit_ids:
        raise NotFound("unit", cmd.unit_id)
    unit = await uow.get(Unit, cmd.unit_id)
    if unit is None:
        raise NotFound("unit", cmd.unit_id)
    at = clock()
    by = By.account(cmd.actor.account_id)

    async def attempt() -> int:
        order = WorkOrder(
            site_id=unit.site_id, title=cmd.title, category=cmd.category,
            priority=Priority.P3, source=OrderSource.RESIDENT, opened_at=at,
            description=cmd.description, building_id=unit.building_id, unit_id=unit.id,
            reporter_id=cmd.actor.account_id, photos=list(cmd.photos))
        order.opened(by, order_policy.terms(cmd.category, Priority.P3))
        return await faults.add_and_dispatch(uow, order, order_policy, by)

    return await faults.retrying(uow, attempt, "repair request")


async def act_on_order(cmd: ActOnOrder, uow: UnitOfWork, clock: Clock,
                       order_policy: OrderPolicy = DEFAULT_POLICY) -> None:
    order = await visible_order(uow, cmd.actor, cmd.order_id)
    at, me = clock(), cmd.actor.account_id
    by = By.account(me)
    match cmd.action:
        case Action.CLAIM:
            order.claim(me, at)
        case Action.ACCEPT:
            order.accept(me, at)
        case Action.START:
            order.start(me, at)
        case Action.PAUSE:
            order.pause(me, at, cmd.reason)
        case Action.RESUME:
            order.resume(me, at)
        case Action.CLOSE:
            order.close(at, by)
        case Action.CANCEL:
            order.cancel(at, by, cmd.reason)
            assert order.id is not None
            uow.emit(OrderCancelled(order_id=order.id, site_id=order.site_id,
                                    fault=order.fault or "", source=order.source, at=at,
                                    device_id=order.device_id, asset_id=order.asset_id))
        case Action.RETURN:
            order.hand_back(me, at, cmd.reason)
        case Action.REOPEN:
            await _key_is_free(uow, order)
            order.reopen(at, by, cmd.reason, order_policy.terms(order.category, order.priority))
            assert order.id is not None
            uow.emit(OrderReopened(order_id=order.id, site_id=order.site_id,
                                   fault=order.fault or "", at=at, device_id=order.device_id,
                                   asset_id=order.asset_id))
    await commit(uow, order)


async def _key_is_free(uow: UnitOfWork, order: WorkOrder) -> None:
    """A fault order reopens only while no newer order for the same fault is open (the unique
    index would refuse it anyway, with a less helpful message)."""
    if order.fault_key is None:
        return
    twin = await uow.find_one(WorkOrder, open_key=order.fault_key)
    if twin is not None and twin.id != order.id:
        raise Conflict(f"work order {twin.id} is open for the same fault: work on that one "
                       f"instead of reopening {order.id}")


async def assign_order(cmd: AssignOrder, uow: UnitOfWork, clock: Clock) -> None:
    order = await visible_order(uow, cmd.actor, cmd.order_id)
    await _worker_for(uow, order, cmd.assignee_id)
    by = By.account(cmd.actor.account_id)
    if cmd.transfer:
        order.transfer(cmd.assignee_id, clock(), by, cmd.reason)
    else:
        order.assign(cmd.assignee_id, clock(), by)
    await commit(uow, order)


async def _worker_for(uow: UnitOfWork, order: WorkOrder, account_id: int) -> Account:
    """An active technician, manager or admin whose grants cover the order's place."""
    account = await uow.get(Account, account_id)
    if account is None or not account.active or account.role not in WORKERS or not (
            account.role == Role.ADMIN or any(
                g.site_id == order.site_id and g.building_id in (None, order.building_id)
                for g in account.grants)):
        raise Invalid(f"account {account_id} is not an active technician of this order's "
                      "site or building", field="assignee_id")
    return account


async def resolve_order(cmd: ResolveOrder, uow: UnitOfWork, clock: Clock) -> None:
    order = await visible_order(uow, cmd.actor, cmd.order_id)
    at = clock()
    results = order.resolve(at, By.account(cmd.actor.account_id), cmd.checklist, cmd.note)
    assert order.id is not None
    uow.emit(OrderResolved(order_id=order.id, site_id=order.site_id, fault=order.fault or "",
                           source=order.source, at=at, device_id=order.device_id,
                           asset_id=order.asset_id, checklist=results))
    await commit(uow, order)


async def note_order(cmd: NoteOrder, uow: UnitOfWork, clock: Clock) -> None:
    order = await visible_order(uow, cmd.actor, cmd.order_id)
    order.note(clock(), By.account(cmd.actor.account_id), cmd.text)
    await commit(uow, order)


async def add_material(cmd: AddMaterial, uow: UnitOfWork, clock: Clock) -> None:
    order = await visible_order(uow, cmd.actor, cmd.order_id)
    line = MaterialLine(name=cmd.name, quantity=cmd.quantity, unit_price=cmd.unit_price,
                        chargeable=cmd.chargeable)
    order.add_material(line, clock(), By.account(cmd.actor.account_id))
    await commit(uow, order)


async def confirm_repair(cmd: ConfirmRepair, uow: UnitOfWork, clock: Clock) -> None:
    """Only the household the order belongs to confirms and rates it."""
    if not cmd.actor.is_resident:
        raise NotFound("work order", cmd.order_id)
    order = await visible_order(uow, cmd.actor, cmd.order_id)
    order.confirm(clock(), By.account(cmd.actor.account_id), cmd.rating, cmd.comment)
    await commit(uow, order)


async def set_roster(cmd: SetRoster, uow: UnitOfWork) -> None:
    await managed_site(uow, cmd.actor, cmd.site_id)
    account = await uow.get(Account, cmd.account_id)
    if account is None or account.role not in WORKERS or not (
            account.role == Role.ADMIN or any(g.site_id == cmd.site_id for g in account.grants)):
        raise Invalid(f"account {cmd.account_id} is not a technician of site {cmd.site_id}",
                      field="account_id")
    entry = await uow.find_one(RosterEntry, site_id=cmd.site_id, account_id=cmd.account_id)
    checked = RosterEntry(cmd.site_id, cmd.account_id, sorted(set(cmd.skills)), cmd.on_duty)
    if entry is None:
        uow.add(checked)
    else:
        entry.skills, entry.on_duty = checked.skills, checked.on_duty
    await uow.commit()


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    RaiseFault: faults.raise_fault,
    ClearFault: faults.clear_fault,
    AnnotateOrder: faults.annotate_order,
    OpenOrder: open_order,
    SubmitRepair: submit_repair,
    ActOnOrder: act_on_order,
    AssignOrder: assign_order,
    ResolveOrder: resolve_order,
    NoteOrder: note_order,
    AddMaterial: add_material,
    ConfirmRepair: confirm_repair,
    SetRoster: set_roster,
}
