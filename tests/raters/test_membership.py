"""A permission check on a project reads one membership row, never the member list."""
from sqlalchemy import event

from raters.access import can
from raters.models import User
from tasks.catalogue.models import Project
from tests.helpers import make_project


def test_membership_check_reads_one_row(app, make_user, session):
    manager = make_user("manager")
    members = [make_user("rater") for _ in range(12)]
    outsider = make_user("rater")
    project_id = make_project(session, session.get(User, manager.id), members=members).id
    session.expunge_all()
    project = session.get(Project, project_id)
    member, stranger = session.get(User, members[5].id), session.get(User, outsider.id)
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(session.bind, "before_cursor_execute", record)
    try:
        assert can(member, "projects.view", project)
        assert not can(stranger, "projects.view", project)
    finally:
        event.remove(session.bind, "before_cursor_execute", record)
    member_reads = [s for s in statements if "project_members" in s]
    assert len(member_reads) == 2 and all("EXISTS" in s.upper() for s in member_reads)
    assert "member_rows" not in project.__dict__  # the list was never loaded
