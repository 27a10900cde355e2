"""A rater's home says why a project has nothing waiting for them."""
from sqlalchemy import select

from raters.models import User
from tasks.catalogue.models import Project
from tests.e2e.conftest import screenshot, sign_in
from tests.tasks.rating_factories import make_item, rating_project


def test_rater_home_says_why_nothing_is_waiting(app, page, live_server):
    with app.extensions["database"].writer_sessionmaker() as session:
        sound = session.scalar(select(User).where(User.email == "sound@dailies.example"))
        manager = session.scalar(select(User).where(User.email == "manager@dailies.example"))
        project = rating_project(session, manager.id, members=[sound], name="Foley pass — needs VFX eyes")
        make_item(session, project, expertise=["vfx"])
        session.commit()
        assert session.scalar(select(Project.id).where(Project.name == project.name))
    sign_in(page, live_server, "sound@dailies.example", "demo-rater-pass")
    card = page.locator(".rater-card", has_text="Foley pass")
    assert card.locator("button").inner_text() == "Nothing waiting"
    assert "vfx" in card.locator("[data-reason=expertise]").inner_text()
    screenshot(page, "home-why-nothing")
    assert page.console_errors == []
