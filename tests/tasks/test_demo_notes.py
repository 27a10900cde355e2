"""The demo shows issue 10: the video project compares three criteria, earlier panel judgments
carry per-criterion choices and time-coded notes, and the demo clips' frame rate (24 fps) is
read when they are stored."""
from __future__ import annotations

from sqlalchemy import select

from database import db
from demo import seed
from tasks.catalogue.models import Asset, Project
from tasks.rating.models import Judgment


def test_the_demo_seeds_criteria_notes_and_frame_rates(app):
    with app.app_context():
        seed.run(lambda _line: None)
        db.session.commit()
        video = db.session.scalar(select(Project).where(Project.modality == "video"))
        assert [c["key"] for c in video.pairwise_criteria] == ["motion", "fidelity", "continuity"]
        judged = db.session.scalars(select(Judgment).where(Judgment.project_id == video.id)).all()
        assert judged and all(set(j.criteria) == {"motion", "fidelity", "continuity"} for j in judged)
        noted = [j for j in db.session.scalars(select(Judgment)) if j.notes]
        assert len(noted) >= 5 and {n["label"] for j in noted for n in j.notes} == {"a", "b"}
        rates = {a.media_kind: a.frame_rate for a in db.session.scalars(select(Asset))}
        assert rates["video"] == 24.0 and rates["audio"] is None
        frames = [n["frame_in"] for j in noted if j.project_id == video.id for n in j.notes]
        assert frames and all(isinstance(f, int) for f in frames)  # frames from the clips' real rate
