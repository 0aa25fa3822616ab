"""Building the rules worker for a hub (called by hub.bootstrap, the composition root)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.health import HealthBoard
from hub.ingest.pipeline import IngestPipeline
from hub.ingest.registry_cache import DeviceInfo
from hub.ports import Clock
from hub.rules.dispatch import Handle
from hub.rules.intake import KINDS
from hub.rules.loader import load_dir
from hub.rules.runner import RulesRunner
from hub.rules.store import SqlRuleStore
from hub.settings import Settings
from hub.supervise import Job

log = logging.getLogger(__name__)


def build_rules(settings: Settings, engine: AsyncEngine, handle: Handle,
                pipeline: IngestPipeline, health: HealthBoard, clock: Clock,
                jobs: dict[str, Job]) -> RulesRunner | None:
    """None when disabled or when the folder does not exist (logged). A bad rule raises
    RuleError, which stops start-up with every `file:rule-id: reason`."""
    config = settings.rules
    directory = Path(config.directory)
    if not config.enabled:
        return None
    if not directory.is_dir():
        log.warning("rules: no folder %s, no rules run", directory)
        return None
    def devices() -> Iterable[DeviceInfo]:  # the cache replaces its mapping on each load
        return pipeline.cache.devices.values()

    runner = RulesRunner(load_dir(directory), SqlRuleStore(engine), handle, settings=config,
                         directory=directory, lookup=pipeline.cache.get, devices=devices,
                         clock=clock, urgency=pipeline.urgency)
    pipeline.observers.subscribe(runner.observe, *KINDS)
    health.register("rules", runner.health)
    jobs |= {"rules": runner.run, "rules.ticks": runner.tick_forever}
    return runner
