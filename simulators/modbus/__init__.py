"""Modbus TCP device simulators: elevators (`elevator-std`) and energy and water meters
(`meter-energy`, `meter-water`) behind pymodbus servers, plus the misbehaviours the hub must
survive (slow, down, hung, garbage, exception responses).

They implement DESIGN.md §3 on their own (struct, not the hub's decoder), so a test that
polls them checks the hub against the contract, not against itself.
"""
