"""The policy table: which roles may call which route. One table, default deny.

A route that is not in this table answers 403 to everyone (and a test fails on it).
Object scope — which site, building or household — is checked inside the queries, not here.
"""

from __future__ import annotations

from typing import Final

from hub.domain.accounts import Role

PUBLIC: Final = "public"  # no token needed
ANYONE: Final = frozenset(Role)  # any signed-in account
STAFF: Final = frozenset(Role) - {Role.RESIDENT}
A, M, F, MT, SD, SEC, R = (Role.ADMIN, Role.MANAGER, Role.FINANCE, Role.MAINTENANCE,
                           Role.SERVICE_DESK, Role.SECURITY, Role.RESIDENT)

Allowed = frozenset[Role] | str

POLICY: Final[dict[tuple[str, str], Allowed]] = {
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): ANYONE,
    ("GET", "/api/v1/auth/me"): ANYONE,

    ("GET", "/api/v1/sites"): ANYONE,
    ("POST", "/api/v1/sites"): frozenset({A}),
    ("GET", "/api/v1/sites/{site_id}"): ANYONE,
    ("PATCH", "/api/v1/sites/{site_id}"): frozenset({A, M}),
    ("DELETE", "/api/v1/sites/{site_id}"): frozenset({A}),

    ("GET", "/api/v1/buildings"): ANYONE,
    ("POST", "/api/v1/buildings"): frozenset({A, M}),
    ("GET", "/api/v1/buildings/{building_id}"): ANYONE,
    ("PATCH", "/api/v1/buildings/{building_id}"): frozenset({A, M}),
    ("DELETE", "/api/v1/buildings/{building_id}"): frozenset({A, M}),

    ("GET", "/api/v1/units"): ANYONE,
    ("POST", "/api/v1/units"): frozenset({A, M, SD}),
    ("GET", "/api/v1/units/{unit_id}"): ANYONE,
    ("PATCH", "/api/v1/units/{unit_id}"): frozenset({A, M, SD}),
    ("DELETE", "/api/v1/units/{unit_id}"): frozenset({A, M}),

    # Not finance: it reaches billing, payments and reports and nothing else (issue 5); a
    # bill names its unit, and a statement its unit's account.
    ("GET", "/api/v1/residents"): frozenset({A, M, SD, MT, SEC, R}),
    ("POST", "/api/v1/residents"): frozenset({A, M, SD}),
    ("POST", "/api/v1/residents/lookup"): frozenset({A, M, SD}),
    ("GET", "/api/v1/residents/{resident_id}"): frozenset({A, M, SD, MT, SEC, R}),
    ("PATCH", "/api/v1/residents/{resident_id}"): frozenset({A, M, SD}),
    ("DELETE", "/api/v1/residents/{resident_id}"): frozenset({A, M}),
    ("POST", "/api/v1/residents/{resident_id}/reveal"): frozenset({A, M}),
    ("POST", "/api/v1/residents/{resident_id}/residencies"): frozenset({A, M, SD}),
    ("POST", "/api/v1/residencies/{residency_id}/end"): frozenset({A, M, SD}),

    ("GET", "/api/v1/staff"): frozenset({A, M}),
    ("POST", "/api/v1/staff"): frozenset({A, M}),
    ("GET", "/api/v1/staff/{account_id}"): frozenset({A, M}),
    ("PATCH", "/api/v1/staff/{account_id}"): frozenset({A, M}),

    ("GET", "/api/v1/audit"): frozenset({A}),

    # Announcements: the service desk and managers write them (site-wide ones need the whole
    # site; building staff those of their buildings); residents read what applies to them.
    ("GET", "/api/v1/announcements"): frozenset({A, M, SD}),
    ("POST", "/api/v1/announcements"): frozenset({A, M, SD}),
    ("GET", "/api/v1/announcements/{announcement_id}"): frozenset({A, M, SD}),
    ("PATCH", "/api/v1/announcements/{announcement_id}"): frozenset({A, M, SD}),
    ("POST", "/api/v1/announcements/{announcement_id}/publish"): frozenset({A, M, SD}),
    ("POST", "/api/v1/announcements/{announcement_id}/withdraw"): frozenset({A, M, SD}),
    ("GET", "/api/v1/me/announcements"): frozenset({R}),
    ("POST", "/api/v1/me/announcements/{announcement_id}/read"): frozenset({R}),
    # Everyone's own feed (staff get alerts), its live stream and preferences.
    ("GET", "/api/v1/me/notifications"): ANYONE,
    ("GET", "/api/v1/me/notifications/stream"): ANYONE,
    ("POST", "/api/v1/me/notifications/{notification_id}/read"): ANYONE,
    ("POST", "/api/v1/me/notifications/read-all"): ANYONE,
    ("GET", "/api/v1/me/notification-preferences"): ANYONE,
    ("PUT", "/api/v1/me/notification-preferences"): ANYONE,
    # Complaints: residents submit and rate theirs; the service desk and managers handle them.
    ("POST", "/api/v1/me/complaints"): frozenset({R}),
    ("GET", "/api/v1/me/complaints"): frozenset({R}),
    ("GET", "/api/v1/me/complaints/{complaint_id}"): frozenset({R}),
    ("POST", "/api/v1/me/complaints/{complaint_id}/rate"): frozenset({R}),
    ("GET", "/api/v1/me/complaints/{complaint_id}/photos/{photo_no}"): frozenset({R}),
    ("GET", "/api/v1/complaints"): frozenset({A, M, SD}),
    ("GET", "/api/v1/complaints/{complaint_id}"): frozenset({A, M, SD}),
    ("GET", "/api/v1/complaints/{complaint_id}/photos/{photo_no}"): frozenset({A, M, SD}),
    ("POST", "/api/v1/complaints/{complaint_id}/reply"): frozenset({A, M, SD}),
    ("POST", "/api/v1/complaints/{complaint_id}/status"): frozenset({A, M, SD}),
    ("POST", "/api/v1/complaints/{complaint_id}/escalate"): frozenset({A, M, SD}),

    # Device readings: the staff who run the estate; finance and residents have no use.
    ("GET", "/api/v1/devices/{device_id}/telemetry"): frozenset({A, M, MT, SD, SEC}),

    # The device registry: the same staff read it; managers change it and send commands
    # (a manual gate opening, lights on). Object scope (site, building) is in the queries.
    ("GET", "/api/v1/devices"): frozenset({A, M, MT, SD, SEC}),
    ("POST", "/api/v1/devices"): frozenset({A, M}),
    ("GET", "/api/v1/devices/{device_id}"): frozenset({A, M, MT, SD, SEC}),
    ("PATCH", "/api/v1/devices/{device_id}"): frozenset({A, M}),
    ("POST", "/api/v1/devices/{device_id}/approve"): frozenset({A, M}),
    ("GET", "/api/v1/devices/{device_id}/status"): frozenset({A, M, MT, SD, SEC}),
    ("POST", "/api/v1/devices/{device_id}/commands"): frozenset({A, M}),
    ("GET", "/api/v1/devices/{device_id}/commands"): frozenset({A, M, MT, SD, SEC}),
    # What ingestion refused: for those who fix devices.
    ("GET", "/api/v1/dead-letters"): frozenset({A, M, MT}),
    ("GET", "/api/v1/dead-letters/counts"): frozenset({A, M, MT}),

    # Facilities: the staff who run the estate read assets, their history and reliability;
    # managers register and change them. Maintenance plans: technicians and managers.
    ("GET", "/api/v1/assets"): frozenset({A, M, MT, SD}),
    ("POST", "/api/v1/assets"): frozenset({A, M}),
    ("GET", "/api/v1/assets/{asset_id}"): frozenset({A, M, MT, SD}),
    ("PATCH", "/api/v1/assets/{asset_id}"): frozenset({A, M}),
    ("GET", "/api/v1/assets/{asset_id}/history"): frozenset({A, M, MT, SD}),
    ("GET", "/api/v1/assets/{asset_id}/reliability"): frozenset({A, M, MT}),
    ("GET", "/api/v1/maintenance/templates"): frozenset({A, M, MT}),
    ("GET", "/api/v1/maintenance/plans"): frozenset({A, M, MT}),
    ("POST", "/api/v1/maintenance/plans"): frozenset({A, M, MT}),
    ("POST", "/api/v1/maintenance/plans/from-template"): frozenset({A, M, MT}),
    ("POST", "/api/v1/maintenance/plans/for-category"): frozenset({A, M}),
    ("GET", "/api/v1/maintenance/plans/{plan_id}"): frozenset({A, M, MT}),
    ("PATCH", "/api/v1/maintenance/plans/{plan_id}"): frozenset({A, M, MT}),
    ("GET", "/api/v1/maintenance/plans/{plan_id}/runs"): frozenset({A, M, MT}),
    # Rules: managers change and try them; technicians read them and what they caused.
    ("GET", "/api/v1/rules"): frozenset({A, M, MT}),
    ("POST", "/api/v1/rules/validate"): frozenset({A, M}),
    ("POST", "/api/v1/rules/reload"): frozenset({A, M}),
    ("POST", "/api/v1/rules/replay"): frozenset({A, M}),
    ("GET", "/api/v1/rules/outcomes"): frozenset({A, M, MT}),

    # Work orders: the staff who run the estate read and open them; dispatchers (managers,
    # the service desk) assign, transfer, close, cancel and reopen; technicians claim and work
    # them (only the assignee accepts, starts, pauses or returns one: 409 for others).
    ("GET", "/api/v1/work-orders"): frozenset({A, M, MT, SD}),
    ("POST", "/api/v1/work-orders"): frozenset({A, M, MT, SD}),
    ("GET", "/api/v1/work-orders/sla-board"): frozenset({A, M, MT, SD}),
    ("GET", "/api/v1/work-orders/mine"): frozenset({A, M, MT}),
    ("GET", "/api/v1/work-orders/roster"): frozenset({A, M, MT, SD}),
    ("PUT", "/api/v1/work-orders/roster"): frozenset({A, M}),
    ("GET", "/api/v1/work-orders/{order_id}"): frozenset({A, M, MT, SD}),
    ("GET", "/api/v1/work-orders/{order_id}/photos/{photo_no}"): frozenset({A, M, MT, SD}),
    ("POST", "/api/v1/work-orders/{order_id}/assign"): frozenset({A, M, SD}),
    ("POST", "/api/v1/work-orders/{order_id}/transfer"): frozenset({A, M, SD}),
    ("POST", "/api/v1/work-orders/{order_id}/claim"): frozenset({A, M, MT}),
    ("POST", "/api/v1/work-orders/{order_id}/accept"): frozenset({A, M, MT}),
    ("POST", "/api/v1/work-orders/{order_id}/start"): frozenset({A, M, MT}),
    ("POST", "/api/v1/work-orders/{order_id}/pause"): frozenset({A, M, MT}),
    ("POST", "/api/v1/work-orders/{order_id}/resume"): frozenset({A, M, MT}),
    ("POST", "/api/v1/work-orders/{order_id}/return"): frozenset({A, M, MT}),
    ("POST", "/api/v1/work-orders/{order_id}/resolve"): frozenset({A, M, MT}),
    ("POST", "/api/v1/work-orders/{order_id}/close"): frozenset({A, M, SD}),
    ("POST", "/api/v1/work-orders/{order_id}/cancel"): frozenset({A, M, SD}),
    ("POST", "/api/v1/work-orders/{order_id}/reopen"): frozenset({A, M, SD}),
    ("POST", "/api/v1/work-orders/{order_id}/notes"): frozenset({A, M, MT, SD}),
    ("POST", "/api/v1/work-orders/{order_id}/materials"): frozenset({A, M, MT}),
    # A household's repairs: filed, followed and confirmed by its residents only.
    ("POST", "/api/v1/me/repairs"): frozenset({R}),
    ("GET", "/api/v1/me/repairs"): frozenset({R}),
    ("GET", "/api/v1/me/repairs/{order_id}"): frozenset({R}),
    ("GET", "/api/v1/me/repairs/{order_id}/photos/{photo_no}"): frozenset({R}),
    ("POST", "/api/v1/me/repairs/{order_id}/confirm"): frozenset({R}),

    # Billing and payments: finance staff, managers and admins; money goes back out (refunds,
    # write-offs) only through finance and admins. Residents reach their own bills by /me.
    ("GET", "/api/v1/fee-items"): frozenset({A, M, F}),
    ("POST", "/api/v1/fee-items"): frozenset({A, M, F}),
    ("GET", "/api/v1/fee-items/{fee_item_id}"): frozenset({A, M, F}),
    ("PATCH", "/api/v1/fee-items/{fee_item_id}"): frozenset({A, M, F}),
    ("POST", "/api/v1/fee-items/{fee_item_id}/prices"): frozenset({A, M, F}),
    ("GET", "/api/v1/discounts"): frozenset({A, M, F}),
    ("POST", "/api/v1/discounts"): frozenset({A, M, F}),
    ("GET", "/api/v1/meter-readings"): frozenset({A, M, F}),
    ("POST", "/api/v1/meter-readings"): frozenset({A, M, F}),
    ("POST", "/api/v1/billing/preview"): frozenset({A, M, F}),
    ("POST", "/api/v1/billing/runs"): frozenset({A, M, F}),
    ("GET", "/api/v1/bills"): frozenset({A, M, F}),
    ("GET", "/api/v1/bills/{bill_id}"): frozenset({A, M, F}),
    ("POST", "/api/v1/bills/{bill_id}/write-off"): frozenset({A, F}),
    ("GET", "/api/v1/units/{unit_id}/statement"): frozenset({A, M, F}),
    ("GET", "/api/v1/billing/reports/ageing"): frozenset({A, M, F}),
    ("GET", "/api/v1/billing/reports/collection"): frozenset({A, M, F}),
    ("GET", "/api/v1/billing/reports/revenue"): frozenset({A, M, F}),
    ("GET", "/api/v1/billing/reports/arrears"): frozenset({A, M, F}),
    ("POST", "/api/v1/payments"): frozenset({A, M, F}),
    ("GET", "/api/v1/payments"): frozenset({A, M, F}),
    ("GET", "/api/v1/payments/{payment_id}"): frozenset({A, M, F}),
    ("POST", "/api/v1/payments/{payment_id}/refund"): frozenset({A, F}),
    ("GET", "/api/v1/payments/{payment_id}/receipt"): frozenset({A, M, F}),
    # The provider calls without a token: the HMAC signature is its credential.
    ("POST", "/api/v1/payments/callbacks/sandbox"): PUBLIC,
    ("GET", "/api/v1/me/bills"): frozenset({R}),
    ("GET", "/api/v1/me/bills/{bill_id}"): frozenset({R}),
    ("POST", "/api/v1/me/bills/{bill_id}/pay"): frozenset({R}),
    ("GET", "/api/v1/me/payments"): frozenset({R}),
    ("GET", "/api/v1/me/payments/{payment_id}/receipt"): frozenset({R}),

    # Imports (data migration) and their templates: who may create a record of a kind one at
    # a time may import it, but a whole site's worth needs the whole site (checked in the
    # handler). Kinds of modules that do not exist yet answer 422 with the reason.
    ("POST", "/api/v1/imports/buildings"): frozenset({A, M}),
    ("GET", "/api/v1/imports/templates/buildings.csv"): frozenset({A, M}),
    ("GET", "/api/v1/imports/templates/buildings.xlsx"): frozenset({A, M}),
    ("POST", "/api/v1/imports/units"): frozenset({A, M}),
    ("GET", "/api/v1/imports/templates/units.csv"): frozenset({A, M}),
    ("GET", "/api/v1/imports/templates/units.xlsx"): frozenset({A, M}),
    ("POST", "/api/v1/imports/residents"): frozenset({A, M, SD}),
    ("GET", "/api/v1/imports/templates/residents.csv"): frozenset({A, M, SD}),
    ("GET", "/api/v1/imports/templates/residents.xlsx"): frozenset({A, M, SD}),
    ("POST", "/api/v1/imports/meter-readings"): frozenset({A, M, F}),
    ("GET", "/api/v1/imports/templates/meter-readings.csv"): frozenset({A, M, F}),
    ("GET", "/api/v1/imports/templates/meter-readings.xlsx"): frozenset({A, M, F}),
    ("POST", "/api/v1/imports/vehicles"): frozenset({A, M, SD}),
    ("GET", "/api/v1/imports/templates/vehicles.csv"): frozenset({A, M, SD}),
    ("GET", "/api/v1/imports/templates/vehicles.xlsx"): frozenset({A, M, SD}),
    ("POST", "/api/v1/imports/parking-spaces"): frozenset({A, M}),
    ("GET", "/api/v1/imports/templates/parking-spaces.csv"): frozenset({A, M}),
    ("GET", "/api/v1/imports/templates/parking-spaces.xlsx"): frozenset({A, M}),
    ("POST", "/api/v1/imports/opening-balances"): frozenset({A, M, F}),
    ("GET", "/api/v1/imports/templates/opening-balances.csv"): frozenset({A, M, F}),
    ("GET", "/api/v1/imports/templates/opening-balances.xlsx"): frozenset({A, M, F}),

    # Ownership history (产权变更), rental registration, move-in and move-out: recorded by the
    # service desk, managers and admins, read by them; residents see their own units by /me.
    ("GET", "/api/v1/units/{unit_id}/ownership"): frozenset({A, M, SD}),
    ("POST", "/api/v1/units/{unit_id}/ownership"): frozenset({A, M, SD}),
    ("GET", "/api/v1/units/{unit_id}/leases"): frozenset({A, M, SD}),
    ("POST", "/api/v1/units/{unit_id}/leases"): frozenset({A, M, SD}),
    ("POST", "/api/v1/units/{unit_id}/move-in"): frozenset({A, M, SD}),
    ("POST", "/api/v1/units/{unit_id}/move-out"): frozenset({A, M, SD}),
    # The resident app's household part (vehicles and visitors come with parking).
    ("GET", "/api/v1/me"): frozenset({R}),
    ("GET", "/api/v1/me/units"): frozenset({R}),
    ("GET", "/api/v1/me/household"): frozenset({R}),

    # Parking tariffs: managers publish them; guards and finance read them and quote stays
    # (a quote writes nothing).
    ("GET", "/api/v1/parking/tariffs"): frozenset({A, M, SEC, F}),
    ("POST", "/api/v1/parking/tariffs"): frozenset({A, M}),
    ("GET", "/api/v1/parking/tariffs/{tariff_id}"): frozenset({A, M, SEC, F}),
    ("POST", "/api/v1/parking/tariffs/{tariff_id}/versions"): frozenset({A, M}),
    ("POST", "/api/v1/parking/tariffs/{tariff_id}/quote"): frozenset({A, M, SEC, F}),
    # Parking sessions and gate decisions are location data: guards and managers read them
    # and decide by hand (audited); residents read their own household's stays and charges.
    ("GET", "/api/v1/parking/sessions"): frozenset({A, M, SEC}),
    ("GET", "/api/v1/parking/sessions/{session_id}"): frozenset({A, M, SEC}),
    ("POST", "/api/v1/parking/sessions/{session_id}/close"): frozenset({A, M, SEC}),
    ("POST", "/api/v1/parking/sessions/{session_id}/cash"): frozenset({A, M, SEC}),
    ("POST", "/api/v1/parking/lanes/{lane_id}/open"): frozenset({A, M, SEC}),
    ("GET", "/api/v1/parking/occupancy"): frozenset({A, M, SEC, SD}),
    ("GET", "/api/v1/me/parking/sessions"): frozenset({R}),
    ("GET", "/api/v1/me/parking/charges"): frozenset({R}),
    # Doors and visitors (门禁, 访客). Guards and managers run doors, cards and the access log
    # (location data: nobody else reads it); the service desk reads visitor passes with the
    # visitor's phone masked; residents issue passes for their household and read their own.
    ("GET", "/api/v1/access/doors"): frozenset({A, M, SEC}),
    ("POST", "/api/v1/access/doors"): frozenset({A, M}),
    ("POST", "/api/v1/access/doors/{door_id}/open"): frozenset({A, M, SEC}),
    ("GET", "/api/v1/access/credentials"): frozenset({A, M, SEC}),
    ("POST", "/api/v1/access/credentials"): frozenset({A, M, SEC}),
    ("POST", "/api/v1/access/credentials/{credential_id}/revoke"): frozenset({A, M, SEC}),
    ("GET", "/api/v1/access/visitor-passes"): frozenset({A, M, SEC, SD}),
    ("POST", "/api/v1/access/visitor-passes/{visitor_pass_id}/approve"): frozenset({A, M, SEC}),
    ("POST", "/api/v1/access/visitor-passes/{visitor_pass_id}/reject"): frozenset({A, M, SEC}),
    ("POST", "/api/v1/access/verify"): frozenset({A, M, SEC}),
    ("GET", "/api/v1/access/log"): frozenset({A, M, SEC}),
    ("GET", "/api/v1/me/credentials/qr"): frozenset({R}),
    ("POST", "/api/v1/me/visitor-passes"): frozenset({R}),
    ("GET", "/api/v1/me/visitor-passes"): frozenset({R}),
    ("DELETE", "/api/v1/me/visitor-passes/{visitor_pass_id}"): frozenset({R}),
    ("GET", "/api/v1/me/access-log"): frozenset({R}),
    # The pictures behind a gate decision (location data): the site's security and managers.
    ("GET", "/api/v1/parking/decisions/{decision_id}/snapshot"): frozenset({A, M, SEC}),
    ("GET", "/api/v1/parking/decisions/{decision_id}/crop"): frozenset({A, M, SEC}),
    # Parking registry: managers configure lots, lanes, spaces and the plate lists; the
    # service desk registers vehicles and issues monthly passes; guards read all of it and
    # ask a plate's standing. Plates are location data: finance and maintenance read none.
    ("GET", "/api/v1/parking/lots"): frozenset({A, M, SD, SEC}),
    ("POST", "/api/v1/parking/lots"): frozenset({A, M}),
    ("GET", "/api/v1/parking/lots/{lot_id}"): frozenset({A, M, SD, SEC}),
    ("PATCH", "/api/v1/parking/lots/{lot_id}"): frozenset({A, M}),
    ("DELETE", "/api/v1/parking/lots/{lot_id}"): frozenset({A, M}),
    ("GET", "/api/v1/parking/lanes"): frozenset({A, M, SD, SEC}),
    ("POST", "/api/v1/parking/lanes"): frozenset({A, M}),
    ("GET", "/api/v1/parking/lanes/{lane_id}"): frozenset({A, M, SD, SEC}),
    ("PATCH", "/api/v1/parking/lanes/{lane_id}"): frozenset({A, M}),
    ("DELETE", "/api/v1/parking/lanes/{lane_id}"): frozenset({A, M}),
    ("GET", "/api/v1/parking/spaces"): frozenset({A, M, SD, SEC}),
    ("POST", "/api/v1/parking/spaces"): frozenset({A, M}),
    ("GET", "/api/v1/parking/spaces/{space_id}"): frozenset({A, M, SD, SEC}),
    ("PATCH", "/api/v1/parking/spaces/{space_id}"): frozenset({A, M}),
    ("DELETE", "/api/v1/parking/spaces/{space_id}"): frozenset({A, M}),
    ("GET", "/api/v1/parking/vehicles"): frozenset({A, M, SD, SEC}),
    ("POST", "/api/v1/parking/vehicles"): frozenset({A, M, SD}),
    ("GET", "/api/v1/parking/vehicles/{vehicle_id}"): frozenset({A, M, SD, SEC}),
    ("PATCH", "/api/v1/parking/vehicles/{vehicle_id}"): frozenset({A, M, SD}),
    ("DELETE", "/api/v1/parking/vehicles/{vehicle_id}"): frozenset({A, M, SD}),
    ("GET", "/api/v1/parking/passes"): frozenset({A, M, SD, SEC}),
    ("POST", "/api/v1/parking/passes"): frozenset({A, M, SD}),
    ("GET", "/api/v1/parking/passes/{monthly_pass_id}"): frozenset({A, M, SD, SEC}),
    ("PATCH", "/api/v1/parking/passes/{monthly_pass_id}"): frozenset({A, M, SD}),
    ("DELETE", "/api/v1/parking/passes/{monthly_pass_id}"): frozenset({A, M, SD}),
    ("GET", "/api/v1/parking/lists"): frozenset({A, M, SD, SEC}),
    ("POST", "/api/v1/parking/lists"): frozenset({A, M}),
    ("GET", "/api/v1/parking/lists/{list_entry_id}"): frozenset({A, M, SD, SEC}),
    ("PATCH", "/api/v1/parking/lists/{list_entry_id}"): frozenset({A, M}),
    ("DELETE", "/api/v1/parking/lists/{list_entry_id}"): frozenset({A, M}),
    ("GET", "/api/v1/parking/standing"): frozenset({A, M, SD, SEC}),
    # Residents: their household's vehicles and those vehicles' monthly passes.
    ("GET", "/api/v1/me/vehicles"): frozenset({R}),
    ("GET", "/api/v1/me/passes"): frozenset({R}),
    # Paying for parking: residents pay their household's sessions before the exit; guards
    # (and the exit display's account) show the QR for the fee at the exit; the provider's
    # signed callback needs no token.
    ("POST", "/api/v1/me/parking/sessions/{session_id}/pay"): frozenset({R}),
    ("GET", "/api/v1/me/parking/sessions/{session_id}/due"): frozenset({R}),
    ("GET", "/api/v1/parking/sessions/{session_id}/due"): frozenset({A, M, SEC}),
    ("POST", "/api/v1/parking/sessions/{session_id}/qr"): frozenset({A, M, SEC}),
    ("POST", "/api/v1/parking/payments/callbacks/sandbox"): PUBLIC,
}


def allowed(method: str, path: str) -> Allowed | None:
    """None: the route is not in the table, which means no one."""
    return POLICY.get((method, path))
