"""The MQTT device simulators against a real broker: the contract, commands, faults."""
