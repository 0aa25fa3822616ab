"""Access control (门禁) and visitors (访客): doors, residents' credentials, visitor passes,
the decision at a door and the access log's record of it. Plain Python: no IO, no clock."""
