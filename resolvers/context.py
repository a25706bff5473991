"""The per-request context every resolver receives."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from auth.caller import Caller
from hub.config import Settings

CST = ZoneInfo("Asia/Shanghai")


def cst_date(moment: datetime) -> date:
    """The calendar date in China Standard Time: the hub's notion of 'today'."""
    return moment.astimezone(CST).date()


@dataclass(slots=True)
class Context:
    request: Request
    response: Response
    db: AsyncSession
    settings: Settings
    caller: Caller
    request_id: str
    now: datetime

    @property
    def today(self) -> date:
        return cst_date(self.now)
