"""Device adapters against real services: MQTT broker, Modbus simulators."""
