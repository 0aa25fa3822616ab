"""Every table, registered on one MetaData: import `metadata` from here, not from the parts."""

from __future__ import annotations

from hub.store import (
    access_tables,
    billing_tables,
    device_tables,
    facility_tables,
    notice_tables,
    ownership_tables,
    parking_payment_tables,
    parking_registry_tables,
    parking_session_tables,
    parking_tables,
    rule_tables,
    work_order_tables,
)
from hub.store.tables import metadata

__all__ = ["access_tables", "billing_tables", "device_tables", "facility_tables", "metadata",
           "notice_tables", "ownership_tables", "parking_payment_tables",
           "parking_registry_tables", "parking_session_tables", "parking_tables", "rule_tables",
           "work_order_tables"]
