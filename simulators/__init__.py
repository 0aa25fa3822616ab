"""Device simulators (elevators over Modbus, lights, gates, cameras, doors, meters over MQTT).

Run them with `python -m simulators [mqtt|modbus] ...` (simulators/__main__.py); the MQTT
ones live in simulators/mqtt/, the Modbus ones in simulators/modbus/.
"""
