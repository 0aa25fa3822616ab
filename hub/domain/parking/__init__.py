"""Parking: tariffs and the itemised quote of a stay (lots, sessions and gates build on them).

Pure domain: money is `Decimal`, time comes in as aware datetimes, nothing here does IO.
"""
