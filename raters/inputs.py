"""What account routes, forms and the CLI accept, bounded by the users' and tokens' columns."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from boundary import Body, ColumnText, Form
from raters.models import ApiToken, User, UserExpertise

MAX_PASSWORD_CHARS = 1_000  # hashing cost is per character; a passphrase fits
MAX_TAGS = 50
MAX_NEXT_CHARS = 2_000  # a longer "next" is not followed (security.safe_next) nor accepted by a form
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


# -- the account and user-admin pages' forms (every value is text; bounds as above) ---------------

Password = ColumnText(max_length=MAX_PASSWORD_CHARS)


class TokenForm(Form):
    name: ColumnText(ApiToken.name) = ""


class PasswordForm(Form):
    current_password: Password = ""
    new_password: Password = ""
    confirm_password: Password = ""


class UserForm(Form):
    """The admins' edit-user form (``NewUserForm``: the new-user form)."""
    name: ColumnText(User.name) = ""
    role: ColumnText(max_length=20) = ""  # one of the roles: the service says which
    password: Password = ""
    expertise: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    extra_expertise: ColumnText(max_length=200) = ""
    senior: ColumnText(max_length=3) = ""  # a checkbox: "on" when ticked


class NewUserForm(UserForm):
    email: ColumnText(User.email) = ""


class ActiveForm(Form):
    active: Literal["0", "1"]


# -- signing in and agreeing (checked before any password is: a malformed form costs no attempt) ---

NextUrl = ColumnText(max_length=MAX_NEXT_CHARS)  # where to go afterwards (``security.safe_next`` decides if it may)


class LoginForm(Form):
    email: ColumnText(User.email) = ""
    password: Password = ""
    remember: ColumnText(max_length=3) = ""  # a checkbox: "on" when ticked
    next: NextUrl = ""


class ConsentForm(Form):
    agree: ColumnText(max_length=3) = ""  # the checkbox sends "yes"; the view asks for it in words
    next: NextUrl = ""

