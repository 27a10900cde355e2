"""What account routes, forms and the CLI accept, bounded by the users' and tokens' columns."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from boundary import Body, ColumnText
from raters.models import ApiToken, User, UserExpertise

MAX_PASSWORD_CHARS = 1_000  # hashing cost is per character; a passphrase fits
MAX_TAGS = 50
Role = Literal["admin", "manager", "researcher", "rater"]
Tag = ColumnText(UserExpertise.tag)


class AccountFields(Body):
    """The texts of an account, wherever they come from (services check every write with it)."""
    model_config = {"strict": False}
    email: Optional[ColumnText(User.email)] = None
    name: Optional[ColumnText(User.name)] = None
    password: Optional[ColumnText(max_length=MAX_PASSWORD_CHARS)] = None
    expertise: Optional[list[ColumnText(max_length=200)]] = Field(None, max_length=MAX_TAGS)


class NewUser(Body):
    email: ColumnText(User.email, min_length=1)
    name: ColumnText(User.name, min_length=1)
    role: Role
    password: ColumnText(max_length=MAX_PASSWORD_CHARS)
    expertise: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    senior: bool = False


class NewToken(Body):
    name: ColumnText(ApiToken.name, min_length=1)
