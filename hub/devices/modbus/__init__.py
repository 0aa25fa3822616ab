"""Modbus TCP: register maps as data, their pure decoding, and one polling coordinator per
connection. DESIGN.md §3 is the contract; docs in each module say which part it owns."""
