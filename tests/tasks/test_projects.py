"""Project validation (service, form and API), defaults, members, sanitised instructions."""
import pytest
from sqlalchemy import func, select

from raters.models import User
from tasks.catalogue.models import Project
from tasks.catalogue.projects import ProjectError, create_project, validate_project
from tests.helpers import RUBRIC, import_rows, install_demo_media, make_project, video_row


def _errors(session, data, project=None):
    with pytest.raises(ProjectError) as exc:
        validate_project(session, data, project)
    return exc.value.errors


def test_defaults_fill_the_routing_and_quality_settings(session, make_user):
    manager = session.get(User, make_user("manager").id)
    project = create_project(session, {"name": "Defaults", "kind": "pairwise", "modality": "audio"}, manager)
    assert (project.overlap, project.max_overlap, project.agreement_target) == (3, 5, 0.67)
    assert (project.confidence_threshold, project.audit_rate, project.gold_rate) == (0.9, 0.05, 0.05)
    assert (project.min_rationale_words, project.min_media_fraction) == (12, 0.8)
    assert project.owner_id == manager.id


@pytest.mark.parametrize("data,field,message", [
    ({"name": ""}, "name", "required"),
    ({"kind": "ranking"}, "kind", "one of pairwise, rubric"),
    ({"modality": "image"}, "modality", "one of video, audio, script"),
    ({"overlap": 0}, "overlap", "between 1 and 50"),
    ({"overlap": "three"}, "overlap", "whole number"),
    ({"overlap": 4, "max_overlap": 3}, "max_overlap", "at least the overlap"),
    ({"agreement_target": 1.5}, "agreement_target", "between 0 and 1"),
    ({"audit_rate": "nan"}, "audit_rate", "must be a number"),
    ({"gold_rate": True}, "gold_rate", "must be a number"),
    ({"min_media_fraction": -0.1}, "min_media_fraction", "between 0 and 1"),
    ({"kind": "rubric", "rubric": []}, "rubric", "at least one criterion"),
    ({"rubric": [{"key": "Bad Key", "label": "x", "min": 1, "max": 5, "levels": {"1": "a", "5": "b"}}]},
     "rubric[0].key", "lower-case"),
    ({"rubric": [{"key": "k", "label": "x", "min": 1, "max": 30, "levels": {"1": "a"}}]},
     "rubric[0].max", "2 to 11 points"),
    ({"rubric": [{"key": "k", "label": "x", "min": 1, "max": 5, "levels": {"1": "a"}}]},
     "rubric[0].levels", "missing 5"),
    ({"rubric": [{"key": "k", "label": "x", "min": 1, "max": 5, "levels": {"1": "a", "5": "b", "9": "c"}}]},
     "rubric[0].levels", "not a point on the scale"),
    ({"rubric": RUBRIC + RUBRIC}, "rubric[1].key", "used twice"),
    ({"colour": "red"}, "fields", "unknown field(s): colour"),
])
def test_invalid_project_data_is_refused_with_the_field_named(session, data, field, message):
    base = {"name": "Valid", "kind": "pairwise", "modality": "video"}
    errors = _errors(session, {**base, **data})
    assert message in errors[field]


def test_project_names_are_unique_case_insensitively(session, make_user):
    manager = session.get(User, make_user("manager").id)
    make_project(session, manager, name="Alley chase")
    assert "another project" in _errors(session, {"name": "ALLEY CHASE", "kind": "pairwise", "modality": "video"})["name"]


def test_owner_must_be_a_manager_or_admin(session, make_user):
    rater = make_user("rater")
    errors = _errors(session, {"name": "P", "kind": "pairwise", "modality": "video", "owner_id": rater.id})
    assert errors["owner_id"] == "must be an active manager or admin"


def test_kind_cannot_change_once_items_exist(app, session, make_user):
    install_demo_media(app)
    manager = session.get(User, make_user("manager").id)
    project = make_project(session, manager)
    import_rows(session, app, project, video_row("x-1"))
    assert "cannot change" in _errors(session, {"modality": "audio"}, project)["modality"]


def test_form_creates_a_project_with_a_rubric(login_as, session):
    client, _ = login_as("manager")
    response = client.post("/projects/new", data={
        "name": "Script craft", "kind": "rubric", "modality": "script", "instructions": "# Read it all",
        "overlap": "3", "max_overlap": "5", "agreement_target": "0.7", "confidence_threshold": "0.9",
        "audit_rate": "0.05", "gold_rate": "0.1", "min_rationale_words": "10", "min_media_fraction": "0.5",
        "revision_window_h": "24", "rubric_rows": "2", "rubric-0-key": "dialogue", "rubric-0-label": "Dialogue", "rubric-0-min": "1",
        "rubric-0-max": "4", "rubric-0-levels": "1: Flat\n2: Stiff\n4: Alive"})
    assert response.status_code == 302
    project = session.scalar(select(Project).where(Project.name == "Script craft"))
    assert project.rubric == [{"key": "dialogue", "label": "Dialogue", "min": 1, "max": 4,
                               "levels": {"1": "Flat", "2": "Stiff", "4": "Alive"}}]
    assert project.gold_rate == 0.1


def test_form_errors_are_shown_and_nothing_is_written(login_as, session):
    client, _ = login_as("manager")
    response = client.post("/projects/new", data={"name": "", "kind": "pairwise", "modality": "video",
                                                  "overlap": "0", "rubric_rows": "0"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "required" in page and "must be between 1 and 50" in page
    assert session.scalar(select(func.count()).select_from(Project)) == 0


def test_api_validation_error_lists_every_field(api):
    client, _ = api("manager")
    response = client.post("/api/v1/projects", json={"name": "", "kind": "x", "modality": "video", "overlap": 0})
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert set(error["details"]) == {"name", "kind", "overlap"}


def test_api_patch_changes_only_what_is_sent_and_bumps_the_revision(api, session):
    client, _ = api("manager")
    created = client.post("/api/v1/projects", json={"name": "Patch me", "kind": "pairwise", "modality": "audio"}).json
    response = client.patch(f"/api/v1/projects/{created['id']}", json={"overlap": 4, "max_overlap": 6})
    assert response.status_code == 200
    assert (response.json["overlap"], response.json["max_overlap"], response.json["modality"]) == (4, 6, "audio")
    assert response.json["revision"] == created["revision"] + 1


def test_members_must_be_raters(api, make_user):
    client, _ = api("manager")
    created = client.post("/api/v1/projects", json={"name": "Members", "kind": "pairwise", "modality": "audio"}).json
    rater, researcher = make_user("rater"), make_user("researcher")
    ok = client.patch(f"/api/v1/projects/{created['id']}", json={"members": [rater.id]})
    assert ok.json["members"] == [rater.id]
    bad = client.patch(f"/api/v1/projects/{created['id']}", json={"members": [rater.id, researcher.id]})
    assert bad.status_code == 422 and "only raters" in bad.json["error"]["details"]["members"]


def test_raters_list_only_their_projects(api, make_user, session):
    manager = session.get(User, make_user("manager").id)
    client, rater = api("rater")
    mine = make_project(session, manager, name="Mine", members=[session.get(User, rater.id)])
    make_project(session, manager, name="Not mine")
    listed = client.get("/api/v1/projects").json
    assert [p["id"] for p in listed["items"]] == [mine.id] and listed["total"] == 1


def test_instructions_markdown_is_rendered_without_scripts(login_as, session, make_user):
    client, user = login_as("manager")
    project = make_project(session, session.get(User, user.id), name="XSS",
                           instructions="## Look\n<script>alert(1)</script>\n[x](javascript:alert(2)) *ok*")
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "<h2>Look</h2>" in page and "<em>ok</em>" in page
    assert "<script>alert" not in page and "javascript:alert" not in page


def test_api_lists_are_paginated(api):
    client, _ = api("manager")
    for i in range(5):
        client.post("/api/v1/projects", json={"name": f"P{i}", "kind": "pairwise", "modality": "video"})
    page = client.get("/api/v1/projects?per_page=2&page=2").json
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (2, 2, 5, 2)
    assert "page=3" in page["next"]
    bad = client.get("/api/v1/projects?per_page=0")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_parameter"


def test_instructions_are_rendered_once_per_text_not_once_per_page():
    """The rating page shows the project's instructions with every item: the (pure) rendering of
    one text is kept, a changed text is rendered afresh."""
    from tasks import render_markdown
    text = "## Once\nRendered *once* per text " + str(id(object()))
    before = render_markdown.cache_info()
    first = render_markdown(text)
    assert render_markdown(text) is first
    after = render_markdown.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
    assert str(render_markdown(text + " edited")) == str(first).replace("</p>", " edited</p>")
