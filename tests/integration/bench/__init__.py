"""`hub bench` scenarios run briefly against real services: they work, not how fast."""
