"""Tables of billing (fee items, prices, readings, bills, payments, balances, keys) and their
classical mapping onto hub.domain.billing. Money is Numeric(14, 2): exact, never float."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import registry

from hub.domain.billing.discounts import Discount, DiscountKind
from hub.domain.billing.fees import AreaBasis, FeeItem, FeeKind, LateFeeMode, PriceVersion
from hub.domain.billing.idempotency import IdempotencyKey, KeyState
from hub.domain.billing.ledger import (
    Allocation,
    AllocationKind,
    BalanceEntry,
    BalanceKind,
    Bill,
    BillLine,
    Channel,
    Payment,
    PaymentStatus,
    ProviderEvent,
    Refund,
    WriteOff,
)
from hub.domain.billing.meters import MeterReading, ReadingSource
from hub.domain.billing.money import RoundingMode
from hub.domain.billing.periods import Cycle
from hub.store.tables import metadata
from hub.store.types import EnumText, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


def _money(name: str, nullable: bool = False) -> Column[object]:
    return Column(name, Numeric(14, 2), nullable=nullable)


fee_items = Table(
    "fee_items", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("code", String(63), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", EnumText(FeeKind), nullable=False),
    Column("cycle", EnumText(Cycle), nullable=False),
    Column("due_day", Integer, nullable=False),
    Column("places", Integer, nullable=False),
    Column("rounding", EnumText(RoundingMode), nullable=False),
    Column("prepaid", Boolean, nullable=False),
    Column("area_basis", EnumText(AreaBasis), nullable=False),
    Column("meter", String(32), nullable=False),
    Column("building_ids", JSON, nullable=False),
    Column("unit_ids", JSON, nullable=False),
    Column("quantities", JSON, nullable=False),
    Column("prorate", Boolean, nullable=False),
    Column("late_mode", EnumText(LateFeeMode), nullable=False),
    Column("grace_days", Integer, nullable=False),
    _money("cap_amount", nullable=True),
    Column("cap_rate", Numeric(8, 6), nullable=True),
    Column("active", Boolean, nullable=False),
    UniqueConstraint("site_id", "code"),
)

fee_prices = Table(
    "fee_prices", metadata,
    Column("id", Integer, primary_key=True),
    Column("fee_item_id", ForeignKey("fee_items.id"), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("unit_price", Numeric(14, 6), nullable=False),
    Column("tiers", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=True),
    UniqueConstraint("fee_item_id", "effective_from"),
)

discounts = Table(
    "discounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("kind", EnumText(DiscountKind), nullable=False),
    Column("percent", Numeric(5, 2), nullable=True),
    _money("amount", nullable=True),
    Column("fee_item_id", ForeignKey("fee_items.id"), nullable=True),
    Column("building_ids", JSON, nullable=False),
    Column("unit_ids", JSON, nullable=False),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("only_if_no_arrears", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
)

meter_readings = Table(
    "meter_readings", metadata,
    Column("id", BigId, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("unit_id", ForeignKey("units.id"), nullable=False),
    Column("meter", String(32), nullable=False),
    Column("period", String(8), nullable=False),
    Column("value", Numeric(14, 3), nullable=False),
    Column("read_on", Date, nullable=False),
    Column("source", EnumText(ReadingSource), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("entered_by", Integer, nullable=True),
    Column("device_id", Integer, nullable=True),
    UniqueConstraint("unit_id", "meter", "period"),
)

# One bill per unit and period, one line per (bill, key): committing a run twice bills once.
bills = Table(
    "bills", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("building_id", ForeignKey("buildings.id"), nullable=False),
    Column("unit_id", ForeignKey("units.id"), nullable=False),
    Column("period", String(8), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    _money("total"),
    _money("paid"),
    _money("written_off"),
    Column("version", Integer, nullable=False),
    UniqueConstraint("unit_id", "period"),
)

bill_lines = Table(
    "bill_lines", metadata,
    Column("id", BigId, primary_key=True),
    Column("bill_id", ForeignKey("bills.id"), nullable=False),
    Column("key", String(64), nullable=False),
    Column("fee_item_id", ForeignKey("fee_items.id"), nullable=False, index=True),
    Column("description", String(200), nullable=False),
    Column("quantity", Numeric(14, 3), nullable=False),
    Column("unit_price", Numeric(14, 6), nullable=False),
    _money("gross"),
    _money("discount"),
    _money("amount"),
    _money("paid"),
    _money("written_off"),
    Column("due_date", Date, nullable=False),
    Column("detail", JSON, nullable=False),
    UniqueConstraint("bill_id", "key"),
)

payments = Table(
    "payments", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("unit_id", ForeignKey("units.id"), nullable=False, index=True),
    Column("bill_id", ForeignKey("bills.id"), nullable=True),
    _money("amount"),
    Column("channel", EnumText(Channel), nullable=False),
    Column("status", EnumText(PaymentStatus), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", Integer, nullable=True),
    Column("paid_at", UtcDateTime, nullable=True),
    Column("provider", String(32), nullable=False),
    Column("provider_ref", String(64), nullable=True, unique=True),
    Column("reference", String(100), nullable=False),
    _money("refunded"),
    Column("version", Integer, nullable=False),
)

allocations = Table(
    "allocations", metadata,
    Column("id", BigId, primary_key=True),
    Column("bill_id", ForeignKey("bills.id"), nullable=False, index=True),
    Column("line_id", ForeignKey("bill_lines.id"), nullable=False, index=True),
    Column("payment_id", ForeignKey("payments.id"), nullable=True, index=True),
    _money("amount"),
    Column("kind", EnumText(AllocationKind), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

balance_entries = Table(
    "balance_entries", metadata,
    Column("id", BigId, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("unit_id", ForeignKey("units.id"), nullable=False, index=True),
    _money("amount"),
    Column("kind", EnumText(BalanceKind), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("payment_id", ForeignKey("payments.id"), nullable=True),
    Column("bill_id", ForeignKey("bills.id"), nullable=True),
)

refunds = Table(
    "refunds", metadata,
    Column("id", Integer, primary_key=True),
    Column("payment_id", ForeignKey("payments.id"), nullable=False, index=True),
    _money("amount"),
    Column("reason", String(500), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("by", Integer, nullable=False),
)

write_offs = Table(
    "write_offs", metadata,
    Column("id", Integer, primary_key=True),
    Column("bill_id", ForeignKey("bills.id"), nullable=False, index=True),
    _money("amount"),
    Column("reason", String(500), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("by", Integer, nullable=False),
)

# The row inserted first: which of several requests with one key does the work.
idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", Integer, nullable=False),
    Column("key", String(100), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("state", EnumText(KeyState), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response", JSON, nullable=False),
    UniqueConstraint("account_id", "key"),
)

# A provider's callback is applied once: its event id is stored with the payment it moved.
provider_events = Table(
    "provider_events", metadata,
    Column("id", BigId, primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("event_id", String(100), nullable=False),
    Column("payment_id", ForeignKey("payments.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("provider", "event_id"),
)


def map_billing(mappers: registry) -> None:
    """Called once from hub.store.mapping.start_mappers."""
    mappers.map_imperatively(FeeItem, fee_items)
    mappers.map_imperatively(PriceVersion, fee_prices)
    mappers.map_imperatively(Discount, discounts)
    mappers.map_imperatively(MeterReading, meter_readings)
    mappers.map_imperatively(Bill, bills, version_id_col=bills.c.version)
    mappers.map_imperatively(BillLine, bill_lines)
    mappers.map_imperatively(Payment, payments, version_id_col=payments.c.version)
    mappers.map_imperatively(Allocation, allocations)
    mappers.map_imperatively(BalanceEntry, balance_entries)
    mappers.map_imperatively(Refund, refunds)
    mappers.map_imperatively(WriteOff, write_offs)
    mappers.map_imperatively(IdempotencyKey, idempotency_keys)
    mappers.map_imperatively(ProviderEvent, provider_events)
