"""MQTT device simulators: street lights, barrier gates, plate cameras and door controllers,
each speaking the device contract of DESIGN.md §2 to any broker."""
