"""MQTT side of the device contract (docs/devices.md): codec, subscriber and command sender."""
