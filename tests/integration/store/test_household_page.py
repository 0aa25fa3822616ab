"""`household_page`: a page and the whole query's total in one statement built once, with
bound parameters, on every backend; the same answers as the two-statement `page`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.store.tables import sites
from hub.views.property import HOUSEHOLD_UNITS, HouseholdList, household_page, page


async def test_every_page_carries_the_whole_total_as_the_two_statement_page_does(
        engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(sites.insert(), [{"code": f"s{i}", "name": f"Site {i}",
                                             "address": "", "timezone": "Asia/Shanghai"}
                                            for i in range(7)])
        ids = sorted((await conn.execute(select(sites.c.id))).scalars())
    # The site ids stand in for a household's units: a list bound at each request.
    listing = HouseholdList.of(select(sites.c.id, sites.c.code).where(
        sites.c.id.in_(HOUSEHOLD_UNITS)).order_by(sites.c.code.desc()))
    everything = {"household_units": ids}
    async with AsyncSession(engine) as session, engine.connect() as conn:
        for limit, offset in ((3, 0), (3, 3), (3, 6), (3, 9), (10, 0), (1, 7)):
            expected = await page(session, select(sites.c.id, sites.c.code).order_by(
                sites.c.code.desc()), limit, offset)
            assert await household_page(conn, listing, everything, limit, offset) == expected
            assert expected[1] == 7
        two = {"household_units": ids[:2]}
        assert [i["code"] for i in (await household_page(conn, listing, two, 5, 0))[0]] == [
            "s1", "s0"]
        assert (await household_page(conn, listing, two, 5, 5)) == ([], 2)
        for nothing in ({"household_units": []}, {"household_units": [-1]}):
            assert await household_page(conn, listing, nothing, 3, 0) == ([], 0)
            assert await household_page(conn, listing, nothing, 3, 3) == ([], 0)
