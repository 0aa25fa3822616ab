"""The broker's TLS listener from `hub mosquitto config --tls-port`: a device publishes over
TLS with its own account, the hub's adapter receives it over `mqtts://` trusting the site's
CA (settings `mqtt.ca_file`), and a client that does not trust that CA is refused."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from hub.cli import app
from hub.devices.broker import free_port
from hub.devices.mqtt.adapter import MqttAdapter
from hub.devices.mqtt.link import MqttConfig
from hub.domain.observations import Telemetry
from hub.health import HealthBoard
from tests.integration.devices.mqtt_support import RecordingIngest, eventually
from tests.integration.mosquitto.conftest import (
    DEVICES,
    SHIPPED,
    _wait_until_listening,
    mosquitto_binary,
)

pytestmark = pytest.mark.mqtt


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A site CA and a server certificate for 127.0.0.1 and localhost that it signed."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lakeside test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "broker")]))
              .issuer_name(ca_name).public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(minutes=5))
              .not_valid_after(now + timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([
                  x509.DNSName("localhost"),
                  x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(_pem_key(key))
    return paths


def test_tls_options_go_together_and_name_a_missing_file(tmp_path: Path) -> None:
    devices = tmp_path / "devices.yaml"
    devices.write_text(yaml.safe_dump(DEVICES), encoding="utf-8")
    base = ["mosquitto", "config", "--devices", str(devices), "--out", str(tmp_path / "b")]
    alone = CliRunner().invoke(app, [*base, "--tls-port", "8883"])
    missing = CliRunner().invoke(app, [*base, "--tls-port", "8883", "--tls-cert",
                                       str(tmp_path / "nope.pem"), "--tls-key",
                                       str(tmp_path / "nope.key")])
    assert alone.exit_code == 2 and "go together" in alone.output
    assert missing.exit_code == 2 and "nope.pem: no such file" in missing.output
    assert not (tmp_path / "b").exists()


async def test_devices_and_the_hub_speak_over_the_tls_listener(tmp_path: Path) -> None:
    binary = mosquitto_binary()
    ca, cert, key = _certificates(tmp_path)
    port, tls_port = free_port(), free_port()
    devices = tmp_path / "devices.yaml"
    devices.write_text(yaml.safe_dump(DEVICES), encoding="utf-8")
    out = tmp_path / "broker"
    result = CliRunner().invoke(app, [
        "mosquitto", "config", "--devices", str(devices), "--out", str(out), "--port",
        str(port), "--template", str(SHIPPED), "--tls-port", str(tls_port), "--tls-cert",
        str(cert), "--tls-key", str(key)])
    assert result.exit_code == 0, result.output
    conf = out / "mosquitto.conf"
    if os.geteuid() == 0:  # as in conftest: the dropped-to user cannot read tmp_path
        conf.write_text(conf.read_text(encoding="utf-8") + "user root\n", encoding="utf-8")
    passwords = yaml.safe_load((out / "credentials.yaml").read_text(encoding="utf-8"))
    log = (tmp_path / "mosquitto.log").open("w")
    process = subprocess.Popen([binary, "-c", str(conf)],  # noqa: S603, ASYNC220
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(process, tls_port, tmp_path / "mosquitto.log")
        ingest = RecordingIngest()
        config = MqttConfig(url=f"mqtts://127.0.0.1:{tls_port}", client_id="hub",
                            username="hub", password=passwords["hub"], ca_file=str(ca),
                            sites=("lakeside",), connect_timeout_s=5.0)
        adapter = MqttAdapter(config, ingest, HealthBoard(), lambda: datetime.now(UTC))
        task = asyncio.create_task(adapter.run())
        trusted = ssl.create_default_context(cafile=str(ca))
        gate = "lakeside.gate.gate-north"
        try:
            await eventually(lambda: adapter.stats.connected, "the hub connected over TLS")
            async with aiomqtt.Client("127.0.0.1", tls_port, username=gate,
                                      password=passwords[gate], identifier=gate,
                                      tls_context=trusted) as device:
                await device.publish("estate/lakeside/gate/gate-north/telemetry",
                                     b'{"seq": 1, "metrics": {"barrier": "closed"}}', qos=1)
            await eventually(lambda: len(ingest.items) == 1, "the gate's message over TLS")

            untrusting = ssl.create_default_context()  # the system's CAs only
            with pytest.raises(aiomqtt.MqttError):
                async with aiomqtt.Client("127.0.0.1", tls_port, username=gate,
                                          password=passwords[gate], identifier=gate,
                                          tls_context=untrusting, timeout=5):
                    pass
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
    item = ingest.items[0]
    assert isinstance(item, Telemetry) and item.metrics == {"barrier": "closed"}
    assert f"listener {tls_port} 127.0.0.1" in conf.read_text(encoding="utf-8")
