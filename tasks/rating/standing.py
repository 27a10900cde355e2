"""A rater's standing in a project, and acting on quality: qualification, the auto-pause rules,
and the manager's pause, resume, remove, exclude and re-include. Services flush; the request
commits. Every act is audited (``raters.services.audit``; automatic acts with no actor).

Standing lives on the membership row (``ProjectMember``): ``status`` (``active``, ``warned``,
``paused``, ``removed``) with ``status_reason`` and ``status_rule``, ``excluded`` with
``exclusion_note``, and the counters the submit-time rules read (``gold_seen``, ``gold_right``,
``fast_streak``), so a submit costs a few reads of the rater's own rows, never a recompute of the
panel's figures.

- **Qualification**: when ``projects.qualification_gold`` = N > 0, a rater not yet qualified is
  served gold items only (``tasks.rating.routing``) until they have answered N. Then they pass
  (``qualified_at``) when at least ``gold_accuracy`` of them were right, else they are paused
  with the reason. Gold continues silently at ``gold_rate`` afterwards.
- **Auto-pause rules**, checked after each live submission (thresholds: ``scoring.quality.
  thresholds`` documents them with the flags' thresholds; ``RULE_DEFAULTS`` here): *gold*
  (after ``pause_gold_min_n`` gold items, the 95% Wilson interval of gold accuracy wholly below
  ``gold_accuracy``, checked when a gold item is answered), *speed* (``speed_streak`` judgments
  in a row sooner than the media lasts), *burst* (``burst_count`` judgments within
  ``burst_window_s``). The first trip warns (``warned``), the next trip of any rule pauses.
- **Paused or removed** raters are served nothing new (``stopped``; the rating views answer why)
  and see the reason on their home page. Pausing and removing release their open assignment.
- **Excluded** raters' judgments leave statistics (``scoring.reports.data``) and exports (a
  rule, counted as ``excluded_rater``) until re-included; the statistics' cache key names the
  excluded raters, so re-including restores the earlier key.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from raters.models import User
from raters.services import audit
from tasks.catalogue.models import STOPPED_STATUSES, Project, ProjectMember
from tasks.rating.models import Assignment, Judgment, RatingError

MANAGER_ACTS = ("pause", "resume", "remove", "exclude", "include")
MAX_NOTE = 2000


class StandingRefused(RatingError):
    """A manager's act that does not apply (422 without a note, 409 in the wrong state)."""
    status, code = 409, "standing_conflict"


class RaterStopped(RatingError):
    """The rater is paused or removed in this project: no new assignments (403, with the reason)."""
    status, code = 403, "rater_paused"


# The submit-time rules' settings and defaults; a project overrides them in
# ``projects.quality_thresholds`` beside the flags' thresholds (``scoring.quality.thresholds``,
# which takes these defaults from here: rating cannot import scoring).
RULE_DEFAULTS = {"gold_accuracy": 0.7, "pause_gold_min_n": 8, "speed_streak": 5, "burst_count": 10,
                 "burst_window_s": 60}


@dataclass(frozen=True)
class Rules:
    gold_accuracy: float
    pause_gold_min_n: int
    speed_streak: int
    burst_count: int
    burst_window_s: int


Z95 = 1.959963984540054


def wilson_interval(k: float, n: float, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion ``k / n`` (None, None for ``n == 0``); the desk's
    figures (``scoring.quality.measures``) use this one too."""
    if n <= 0:
        return None, None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def gold_rule_trips(right: int, seen: int, rules: Rules) -> bool:
    """The gold rule (pure): after ``pause_gold_min_n`` gold items, the whole 95% Wilson interval
    of gold accuracy lies below ``gold_accuracy`` — the raters page's gold flag, so a careful
    rater is not warned for a few unlucky misses."""
    return seen >= rules.pause_gold_min_n and wilson_interval(right, seen)[1] < rules.gold_accuracy


def speed_step(streak: int, seconds: float, media_s: float, rules: Rules) -> tuple[int, bool]:
    """The speed rule (pure): the new count of judgments in a row sooner than the media lasts,
    and whether it trips (the count then starts again)."""
    streak = streak + 1 if media_s and seconds < media_s else 0
    return (0, True) if streak >= rules.speed_streak else (streak, False)


def burst_trips(newest: list[datetime], now: datetime, rules: Rules) -> bool:
    """The burst rule (pure): the rater's newest ``burst_count`` judgments (times, any order) all
    came within ``burst_window_s`` of now."""
    return (rules.burst_count > 1 and len(newest) >= rules.burst_count
            and now - min(newest) < timedelta(seconds=rules.burst_window_s))


def escalate(status: str) -> str:
    """What a tripped rule does (pure): warn an active rater, pause a warned one."""
    return {"active": "warned", "warned": "paused"}.get(status, status)


def rules_for(project: Project) -> Rules:
    """The project's rule settings: the defaults with its overrides."""
    overrides = project.quality_thresholds if isinstance(project.quality_thresholds, dict) else {}
    return Rules(**{name: overrides.get(name) if overrides.get(name) is not None else default
                    for name, default in RULE_DEFAULTS.items()})


def membership(session: Session, project: Project, rater_id: int) -> ProjectMember | None:
    return session.get(ProjectMember, (project.id, rater_id))


def in_qualification(project: Project, member: ProjectMember | None) -> bool:
    """Whether the rater still owes the project's qualification gold items."""
    return (member is not None and project.qualification_gold > 0 and member.qualified_at is None
            and member.gold_seen < project.qualification_gold and member.status not in STOPPED_STATUSES)


def stopped(member: ProjectMember | None) -> bool:
    return member is not None and member.status in STOPPED_STATUSES


def stop_message(member: ProjectMember) -> str:
    verb = "removed from" if member.status == "removed" else "paused in"
    return f"You are {verb} this project: {member.status_reason or 'by a manager'}."


def require_not_stopped(session: Session, project: Project, rater: User) -> None:
    """Refuse a new assignment to a paused or removed rater, saying why."""
    member = membership(session, project, rater.id)
    if stopped(member):
        raise RaterStopped(stop_message(member))


def rater_notice(project: Project, member: ProjectMember | None) -> dict | None:
    """What the rater's home page says about their standing (None: nothing to say)."""
    if member is None:
        return None
    if member.status in STOPPED_STATUSES:
        return {"level": "error", "text": stop_message(member)}
    if member.status == "warned":
        return {"level": "error", "text": f"Warning: {member.status_reason} Keep going carefully: "
                                            "a second time pauses your work in this project."}
    if in_qualification(project, member):
        return {"level": "info", "text": f"Qualification: {member.gold_seen} of {project.qualification_gold} "
                                         "check items answered. Real work starts once you pass."}
    return None


# -- submit-time rules ------------------------------------------------------------------------

def _gold_right(project: Project, item, judgment: Judgment) -> bool:
    from tasks.rating.overlap import gold_correct, tolerance  # overlap imports routing, which reads standing
    tolerances = {c["key"]: tolerance(c["min"], c["max"]) for c in project.rubric or []}
    return bool(gold_correct(project.kind, judgment.choice, judgment.scores, item.gold, tolerances))


def media_seconds(project: Project, assignment: Assignment) -> float:
    """How long the media lasts (the judging rule's duration at fraction 1; 0 when unknown)."""
    from tasks.rating.judging import durations, required_dwell_s  # judging calls this module
    return required_dwell_s(project.modality, 1.0, durations(assignment))


def after_submit(session: Session, assignment: Assignment, judgment: Judgment, now: datetime, *,
                 earlier_live_at: list[datetime] | None = None, earlier_complete: bool = False) -> None:
    """Update the rater's counters after a live submission and apply qualification and the
    auto-pause rules: a few reads of the rater's own rows. ``earlier_live_at``: when the rater's
    live judgments in the project before this one were made, newest first, when the caller read
    them (``earlier_complete``: all of them); the burst rule then reads no row when they suffice."""
    project = assignment.project
    member = membership(session, project, assignment.rater_id)
    if member is None:
        return
    t = rules_for(project)
    item = assignment.item
    qualifying = in_qualification(project, member)
    if item.is_gold:
        member.gold_seen += 1
        member.gold_right += int(_gold_right(project, item, judgment))
        accuracy = member.gold_right / member.gold_seen
        if qualifying and member.gold_seen >= project.qualification_gold:
            if accuracy >= t.gold_accuracy:
                member.qualified_at = now
                audit(session, None, "rater.qualified", f"user:{member.user_id}",
                      f"{member.gold_right} of {member.gold_seen} check items right", project_id=project.id)
            else:
                _set(session, member, "paused", "qualification", now,
                     f"qualification failed: {member.gold_right} of {member.gold_seen} check items right "
                     f"(needs {t.gold_accuracy:.0%})")
                return
        elif not qualifying and gold_rule_trips(member.gold_right, member.gold_seen, t):
            upper = wilson_interval(member.gold_right, member.gold_seen)[1]
            _trip(session, member, "gold", now, f"gold accuracy {accuracy:.0%} on {member.gold_seen} check items "
                                                f"(95% CI up to {upper:.0%}) is below {t.gold_accuracy:.0%}.")
    member.fast_streak, fast = speed_step(member.fast_streak, (judgment.time_on_task_ms or 0) / 1000,
                                          media_seconds(project, assignment), t)
    if fast:
        _trip(session, member, "speed", now, f"{t.speed_streak} judgments in a row came sooner than their "
                                             "media lasts.")
    elif t.burst_count > 1:
        if earlier_live_at is not None and (earlier_complete or len(earlier_live_at) >= t.burst_count - 1):
            newest = [judgment.created_at, *earlier_live_at[:t.burst_count - 1]]
        else:
            newest = session.scalars(select(Judgment.created_at).where(
                Judgment.project_id == project.id, Judgment.rater_id == member.user_id, Judgment.source == "live")
                .order_by(Judgment.id.desc()).limit(t.burst_count)).all()
        if burst_trips(newest, now, t):
            _trip(session, member, "burst", now, f"{t.burst_count} judgments within {t.burst_window_s} seconds.")
    session.flush()


def _trip(session: Session, member: ProjectMember, rule: str, now: datetime, reason: str) -> None:
    """A rule tripped: warn an active rater, pause a warned one (``escalate``)."""
    status = escalate(member.status)
    if status == "warned":
        _set(session, member, status, rule, now, reason)
    elif status == "paused":
        _set(session, member, status, rule, now, f"{reason} (after an earlier warning: {member.status_reason})")


def _set(session: Session, member: ProjectMember, status: str, rule: str | None, now: datetime, reason: str | None,
         actor: User | None = None) -> None:
    member.status, member.status_rule, member.status_reason, member.status_at = status, rule, reason, now
    if status in STOPPED_STATUSES:
        _release_open(session, member, now)
    action = {"warned": "rater.warn", "paused": "rater.pause", "removed": "rater.remove", "active": "rater.resume"}[status]
    audit(session, actor, action, f"user:{member.user_id}", (reason or "")[:500], project_id=member.project_id)
    session.flush()


def _release_open(session: Session, member: ProjectMember, now: datetime) -> None:
    """Close the rater's open assignment in the project, so its item goes back to the others."""
    held = session.scalars(select(Assignment).where(
        Assignment.project_id == member.project_id, Assignment.rater_id == member.user_id,
        Assignment.status == "open").with_for_update()).all()
    for assignment in held:
        assignment.status, assignment.closed_at = "expired", now
    if held:
        from tasks.rating import routing  # routing reads standing at every pick
        session.flush()
        routing.refresh_items(session, {a.item_id for a in held})


# -- the manager's acts ------------------------------------------------------------------------

def _note(note) -> str:
    text = (note or "").strip().replace("\x00", "") if isinstance(note, str) else ""
    if not text:
        raise StandingRefused("Say why: a note is required.", status=422, code="validation_failed")
    return text[:MAX_NOTE]


def act(session: Session, project: Project, rater_id: int, action: str, note, actor: User, now: datetime) -> ProjectMember:
    """A manager pauses, resumes, removes, excludes or re-includes a rater (with a note): a member,
    or anyone with judgments in the project (their standing row is made then)."""
    member = membership(session, project, rater_id)
    if member is None and session.scalar(select(Judgment.id).where(
            Judgment.project_id == project.id, Judgment.rater_id == rater_id).limit(1)) is not None:
        # A rater with judgments here but no membership (imported judgments' placeholder raters,
        # or a rater since dropped from the members): their standing starts now.
        member = ProjectMember(project_id=project.id, user_id=rater_id, qualified_at=now)
        session.add(member)
        session.flush()
    if member is None:
        raise StandingRefused(f"User {rater_id} has no judgments and is not a member of this project.", status=404,
                              code="not_found")
    text = _note(note)
    if action == "pause":
        if member.status == "paused":
            raise StandingRefused("This rater is already paused.")
        _set(session, member, "paused", "manager", now, text, actor)
    elif action == "remove":
        if member.status == "removed":
            raise StandingRefused("This rater is already removed.")
        _set(session, member, "removed", "manager", now, text, actor)
    elif action == "resume":
        if member.status == "active":
            raise StandingRefused("This rater is already active.")
        member.fast_streak = 0
        if member.qualified_at is None and member.status_rule == "qualification":
            member.qualified_at = now  # the manager vouches for them
        _set(session, member, "active", None, now, None, actor)
        audit(session, actor, "rater.resume.note", f"user:{member.user_id}", text, project_id=project.id)
    elif action in ("exclude", "include"):
        if member.excluded == (action == "exclude"):
            raise StandingRefused(f"This rater's judgments are already {action}d.")
        member.excluded, member.exclusion_note = action == "exclude", text
        audit(session, actor, f"rater.{action}", f"user:{member.user_id}", text, project_id=project.id)
    else:
        raise StandingRefused(f"Unknown act {action!r} (one of {', '.join(MANAGER_ACTS)}).", status=422,
                              code="validation_failed")
    session.flush()
    return member


def standing_by_rater(session: Session, project: Project) -> dict[int, dict]:
    """Every member's standing, by user id (the panel and rater pages show it)."""
    return {m.user_id: standing_json(project, m) for m in session.scalars(
        select(ProjectMember).where(ProjectMember.project_id == project.id))}


def standing_json(project: Project, member: ProjectMember) -> dict:
    return {"status": member.status, "reason": member.status_reason, "rule": member.status_rule,
            "since": member.status_at.isoformat() if member.status_at else None,
            "excluded": member.excluded, "exclusion_note": member.exclusion_note,
            "gold_seen": member.gold_seen, "gold_right": member.gold_right,
            "qualification": {"required": project.qualification_gold, "answered": min(member.gold_seen, project.qualification_gold),
                              "passed": member.qualified_at is not None or project.qualification_gold == 0,
                              "in_progress": in_qualification(project, member)}}


def excluded_rater_ids(session: Session, project_id: int) -> list[int]:
    return sorted(session.scalars(select(ProjectMember.user_id).where(
        ProjectMember.project_id == project_id, ProjectMember.excluded.is_(True))))


def excluded_raters_sql(project_id: int):
    """SQL: ids of the project's raters whose judgments are excluded."""
    return select(ProjectMember.user_id).where(ProjectMember.project_id == project_id,
                                               ProjectMember.excluded.is_(True))


def with_standing(session: Session, project: Project, rater: User, progress: dict) -> dict:
    """A rater's home-page progress (``routing.progress``) with their standing: a paused or
    removed rater has nothing waiting and reads why; a warned or qualifying one reads a notice."""
    member = membership(session, project, rater.id)
    if stopped(member):
        return {**progress, "available": 0, "open_assignment_id": None, "notice": None,
                "why": [{"code": member.status, "text": stop_message(member)}]}
    return {**progress, "notice": rater_notice(project, member)}
