"""`hub bench SCENARIO`: measurements against real components (DESIGN.md §8)."""
