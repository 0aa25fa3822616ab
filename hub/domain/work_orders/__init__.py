"""Work orders: the record a fault, a due plan or a resident's request becomes, and its life."""

from hub.domain.work_orders.dispatch import RosterEntry, Rotation, candidates, next_in_turn
from hub.domain.work_orders.order import (
    DONE,
    OPEN,
    InvalidTransition,
    Status,
    WorkOrder,
    fault_key,
)
from hub.domain.work_orders.policy import (
    DEFAULT_POLICY,
    CategoryPolicy,
    DispatchMode,
    OrderPolicy,
    SlaTerms,
)
from hub.domain.work_orders.records import (
    SYSTEM_BY,
    By,
    MaterialLine,
    Occurrence,
    TimelineEntry,
    cause_data,
)
from hub.domain.work_orders.sla import AlertKind, Clock, SlaAlert, sla_check

__all__ = [
    "DEFAULT_POLICY", "DONE", "OPEN", "SYSTEM_BY", "AlertKind", "By", "CategoryPolicy", "Clock",
    "DispatchMode", "InvalidTransition", "MaterialLine", "Occurrence", "OrderPolicy",
    "RosterEntry", "Rotation", "SlaAlert", "SlaTerms", "Status", "TimelineEntry", "WorkOrder",
    "candidates", "cause_data", "fault_key", "next_in_turn", "sla_check",
]
