"""`hub import KIND FILE`: the same import as the API's, acting as the system account."""

from __future__ import annotations

from pathlib import Path

from hub.bootstrap import bootstrap
from hub.domain.accounts import SYSTEM
from hub.domain.errors import DomainError
from hub.domain.property import Site
from hub.imports.parse import MAX_BYTES, Parsed, parse
from hub.imports.report import Report
from hub.imports.service import RunImport
from hub.settings import Settings


def read_file(kind: str, path: Path) -> Parsed:
    """Raises ValueError with a message for the console when the file cannot be taken."""
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"{path}: larger than {MAX_BYTES} bytes: split the file")
    try:
        return parse(kind, path.read_bytes(), path.name)
    except DomainError as err:
        raise ValueError(err.message) from None


async def import_parsed(settings: Settings, parsed: Parsed, *, commit: bool,
                        site_code: str | None) -> Report:
    """Raises ValueError with a message for the console when the import cannot start."""
    from hub.runtime import require_current_schema

    hub = bootstrap(settings)
    try:
        await require_current_schema(hub)
        async with hub.uow() as uow:
            sites = await uow.find(Site, code=site_code) if site_code else await uow.find(Site)
        if site_code and not sites:
            raise ValueError(f"--site: no site with code {site_code!r}")
        if len(sites) != 1 or sites[0].id is None:
            codes = ", ".join(sorted(s.code for s in sites)) or "none yet"
            raise ValueError(f"--site: say which site to import into ({codes})")
        report: Report = await hub.bus.handle(RunImport(SYSTEM, sites[0].id, parsed, commit))
        return report
    except DomainError as err:
        raise ValueError(err.message) from None
    finally:
        await hub.close()


def report_lines(report: Report, source: str) -> list[str]:
    """One line per problem (`FILE:row N: column: value: reason`), then the summary."""
    return [p.line(source) for p in report.problems] + [report.summary()]
