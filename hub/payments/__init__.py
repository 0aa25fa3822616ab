"""Online payment providers: the interface the hub talks to, and a sandbox for development."""
