"""Billing: fee items and their formulas, billing runs, bills, payments and balances.

Pure domain: money is `Decimal` throughout, time comes in as arguments, nothing here does IO.
"""
