"""The read side: plain SELECTs, scoped to the actor inside the query, returning dicts."""
