"""The shipped Mosquitto configuration with generated accounts, on a broker of its own (MS1-MS4)."""
