"""Device simulators (elevators over Modbus, lights, gates, cameras, doors, meters over MQTT).

Empty until the devices issue: the foundation only fixes the package's place in the layout.
"""
