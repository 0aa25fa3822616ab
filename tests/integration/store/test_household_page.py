"""`household_page`: a page and the whole query's total in one statement, on every backend."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hub.store.tables import sites
from hub.views.property import household_page, page


async def test_every_page_carries_the_whole_total_as_the_two_statement_page_does(
        engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(sites.insert(), [{"code": f"s{i}", "name": f"Site {i}",
                                             "address": "", "timezone": "Asia/Shanghai"}
                                            for i in range(7)])
    query = select(sites.c.id, sites.c.code).order_by(sites.c.code.desc())
    nothing = query.where(sites.c.code == "none")
    async with AsyncSession(engine) as session:
        for limit, offset in ((3, 0), (3, 3), (3, 6), (3, 9), (10, 0), (1, 7)):
            expected = await page(session, query, limit, offset)
            assert await household_page(session, query, limit, offset) == expected
            assert expected[1] == 7
        assert await household_page(session, nothing, 3, 0) == ([], 0)
        assert await household_page(session, nothing, 3, 3) == ([], 0)
        codes = [item["code"] for item in (await household_page(session, query, 3, 3))[0]]
    assert codes == ["s3", "s2", "s1"]
