"""Device adapters: MQTT, Modbus and plate recognition translate to and from domain messages."""
