"""Chinese licence plates in camera snapshots: reading them (the reader modules) and drawing
them (render, scene: the seeded image generator the simulators, tests and benchmark use)."""
