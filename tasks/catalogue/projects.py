"""Projects: validation of their settings and rubric, creation, edits, members."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from raters.models import User
from raters.services import audit
from tasks.rating import overlap, routing
from tasks.catalogue.models import KINDS, MODALITIES, Item, Project, ProjectMember

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# name → (type, default, low, high): the routing and quality settings of design.md.
SETTINGS: dict[str, tuple[type, Any, float, float]] = {
    "overlap": (int, 3, 1, 50),
    "max_overlap": (int, 5, 1, 100),
    "agreement_target": (float, 0.67, 0.0, 1.0),
    "confidence_threshold": (float, 0.9, 0.0, 1.0),
    "audit_rate": (float, 0.05, 0.0, 1.0),
    "gold_rate": (float, 0.05, 0.0, 1.0),
    "min_rationale_words": (int, 12, 0, 500),
    "min_media_fraction": (float, 0.8, 0.0, 1.0),
    "revision_window_h": (int, 24, 0, 720),
    # Gold items a new rater answers before any real work (tasks.rating.standing; 0: none).
    "qualification_gold": (int, 0, 0, 100),
}
EDITABLE = ("name", "kind", "modality", "instructions", "rubric", "pairwise_criteria", "require_note", "owner_id",
            *SETTINGS)
MAX_PAIRWISE_CRITERIA = 8
# Settings that decide how many judgments an item needs: changing one recomputes every panel.
PANEL_SETTINGS = frozenset({"overlap", "max_overlap", "agreement_target", "rubric"})
# Settings routing's stored counters depend on (target, confidence gate).
ROUTING_SETTINGS = PANEL_SETTINGS | {"confidence_threshold", "audit_rate"}


class ProjectError(ValueError):
    """Refused project data; ``errors`` maps a field (``rubric[0].max``) to what is wrong."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _number(value, kind: type, low: float, high: float) -> tuple[Any, str | None]:
    if isinstance(value, bool):
        return None, "must be a number"
    try:
        number = kind(value) if kind is float else int(str(value).strip())
    except (TypeError, ValueError):
        return None, "must be a whole number" if kind is int else "must be a number"
    if kind is float and number != number:  # NaN
        return None, "must be a number"
    if not low <= number <= high:
        return None, f"must be between {low:g} and {high:g}"
    return number, None


def validate_rubric(rubric: Any, kind: str) -> tuple[list[dict], dict[str, str]]:
    errors: dict[str, str] = {}
    if rubric in (None, ""):
        rubric = []
    if not isinstance(rubric, list):
        return [], {"rubric": "must be a list of criteria"}
    clean, seen = [], set()
    for i, crit in enumerate(rubric):
        where = f"rubric[{i}]"
        if not isinstance(crit, dict):
            errors[where] = "must be an object with key, label, min, max, levels"
            continue
        key = str(crit.get("key", "")).strip()
        if not KEY_RE.match(key):
            errors[f"{where}.key"] = "lower-case letters, digits and _ (starting with a letter)"
        elif key in seen:
            errors[f"{where}.key"] = f"“{key}” is used twice"
        seen.add(key)
        label = str(crit.get("label") or "").strip()
        if not label:
            errors[f"{where}.label"] = "required"
        low, err_low = _number(crit.get("min", 1), int, -100, 100)
        high, err_high = _number(crit.get("max", 5), int, -100, 100)
        if err_low:
            errors[f"{where}.min"] = err_low
        if err_high:
            errors[f"{where}.max"] = err_high
        if low is not None and high is not None and not 2 <= high - low + 1 <= 11:
            errors[f"{where}.max"] = "the scale must have 2 to 11 points"
        levels = crit.get("levels") or {}
        if not isinstance(levels, dict):
            errors[f"{where}.levels"] = "must map each scale point to its description"
            levels = {}
        clean_levels = {}
        for point, text in levels.items():
            p, err = _number(point, int, -100, 100)
            if err or (low is not None and high is not None and not low <= p <= high):
                errors[f"{where}.levels"] = f"“{point}” is not a point on the scale"
                continue
            if str(text or "").strip():
                clean_levels[str(p)] = str(text).strip()
        if low is not None and high is not None and f"{where}.max" not in errors:
            missing = [str(p) for p in (low, high) if str(p) not in clean_levels]
            if missing:
                errors[f"{where}.levels"] = f"describe at least both ends of the scale (missing {', '.join(missing)})"
        clean.append({"key": key, "label": label, "min": low, "max": high,
                      "levels": dict(sorted(clean_levels.items(), key=lambda kv: int(kv[0])))})
    if kind == "rubric" and not rubric:
        errors["rubric"] = "a rubric project needs at least one criterion"
    return clean, errors


def validate_pairwise_criteria(criteria: Any, kind: str) -> tuple[list[dict] | None, dict[str, str]]:
    """``[{key, name, description}]``: what a pairwise rater compares one by one before the
    overall choice (None: no criteria). Pairwise projects only."""
    if criteria in (None, "", []):
        return None, {}
    if kind != "pairwise":
        return None, {"pairwise_criteria": "only pairwise projects compare per criterion"}
    if not isinstance(criteria, list):
        return None, {"pairwise_criteria": "must be a list of {key, name, description}"}
    if len(criteria) > MAX_PAIRWISE_CRITERIA:
        return None, {"pairwise_criteria": f"at most {MAX_PAIRWISE_CRITERIA} criteria"}
    errors: dict[str, str] = {}
    clean, seen = [], set()
    for i, crit in enumerate(criteria):
        where = f"pairwise_criteria[{i}]"
        if not isinstance(crit, dict) or set(crit) - {"key", "name", "description"}:
            errors[where] = "must be an object with key, name and description"
            continue
        key, name, description = (crit.get(f) for f in ("key", "name", "description"))
        if not isinstance(key, str) or not KEY_RE.match(key.strip()):
            errors[f"{where}.key"] = "lower-case letters, digits and _ (starting with a letter)"
        elif key.strip() in seen:
            errors[f"{where}.key"] = f"“{key.strip()}” is used twice"
        else:
            seen.add(key.strip())
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 80:
            errors[f"{where}.name"] = "required, at most 80 characters"
        if description is None:
            description = ""
        if not isinstance(description, str) or len(description.strip()) > 500:
            errors[f"{where}.description"] = "text, at most 500 characters"
        if not any(k.startswith(where) for k in errors):
            clean.append({"key": key.strip(), "name": name.strip(), "description": description.strip()})
    for text in (c.get(f) for c in criteria if isinstance(c, dict) for f in ("key", "name", "description")):
        if isinstance(text, str) and "\x00" in text:
            errors["pairwise_criteria"] = "must not contain NUL characters"
    return (None if errors else clean), errors


def validate_project(session: Session, data: dict, project: Project | None = None) -> dict:
    """Clean project fields from API JSON or a form; raises ProjectError listing every problem.
    With ``project`` given, absent fields keep their current values."""
    errors: dict[str, str] = {}
    current = {f: getattr(project, f) for f in EDITABLE} if project else {
        "name": None, "kind": None, "modality": None, "instructions": "", "rubric": [], "owner_id": None,
        "pairwise_criteria": None, "require_note": False,
        **{name: spec[1] for name, spec in SETTINGS.items()}}
    merged = {**current, **{k: v for k, v in data.items() if k in EDITABLE}}
    unknown = sorted(set(data) - set(EDITABLE) - {"members", "id"})
    if unknown:
        errors["fields"] = f"unknown field(s): {', '.join(unknown)}"
    clean: dict[str, Any] = {}

    name = str(merged["name"] or "").strip()
    if not name:
        errors["name"] = "required"
    elif len(name) > 200:
        errors["name"] = "at most 200 characters"
    elif session.scalar(select(Project.id).where(func.lower(Project.name) == name.lower(),
                                                  Project.id != (project.id if project else -1))):
        errors["name"] = "another project has this name"
    clean["name"] = name
    for field, allowed in (("kind", KINDS), ("modality", MODALITIES)):
        if merged[field] not in allowed:
            errors[field] = f"one of {', '.join(allowed)}"
        clean[field] = merged[field]
    if project is not None and session.scalar(select(func.count()).select_from(Item).where(
            Item.project_id == project.id)):
        for field in ("kind", "modality"):
            if clean[field] != getattr(project, field):
                errors[field] = "cannot change once the project has items"
    instructions = merged["instructions"] or ""
    if not isinstance(instructions, str):
        errors["instructions"] = "must be Markdown text"
    clean["instructions"] = str(instructions)
    clean["rubric"], rubric_errors = validate_rubric(merged["rubric"], clean["kind"])
    errors.update(rubric_errors)
    clean["pairwise_criteria"], criteria_errors = validate_pairwise_criteria(merged["pairwise_criteria"], clean["kind"])
    errors.update(criteria_errors)
    require_note = merged["require_note"]
    if require_note in (None, ""):
        require_note = False
    if not isinstance(require_note, bool):
        errors["require_note"] = "true or false"
    clean["require_note"] = require_note is True
    for field, (kind, _default, low, high) in SETTINGS.items():
        clean[field], err = _number(merged[field], kind, low, high)
        if err:
            errors[field] = err
    if "overlap" not in errors and "max_overlap" not in errors and clean["max_overlap"] < clean["overlap"]:
        errors["max_overlap"] = "must be at least the overlap"
    owner_id = merged["owner_id"]
    if owner_id not in (None, ""):
        owner_id, err = _number(owner_id, int, 1, 2**31)
        owner = session.get(User, owner_id) if owner_id else None
        if err or owner is None or owner.role not in ("admin", "manager") or not owner.active:
            errors["owner_id"] = "must be an active manager or admin"
    clean["owner_id"] = owner_id or None
    if errors:
        raise ProjectError(errors)
    return clean


def create_project(session: Session, data: dict, actor: User) -> Project:
    clean = validate_project(session, data)
    clean["owner_id"] = clean["owner_id"] or actor.id
    project = Project(**clean)
    session.add(project)
    session.flush()
    audit(session, actor, "project.create", f"project:{project.id}", project.name, project_id=project.id)
    return project


def update_project(session: Session, project: Project, data: dict, actor: User) -> Project:
    clean = validate_project(session, data, project)
    clean["owner_id"] = clean["owner_id"] or project.owner_id
    changed = [k for k, v in clean.items() if getattr(project, k) != v]
    for key in changed:
        setattr(project, key, clean[key])
    if changed:
        project.revision += 1
        audit(session, actor, "project.update", f"project:{project.id}", ", ".join(changed),
              project_id=project.id)
    session.flush()
    if PANEL_SETTINGS & set(changed):
        overlap.refresh_project(session, project)
    if ROUTING_SETTINGS & set(changed):
        routing.refresh_project_items(session, project)
    return project


def set_members(session: Session, project: Project, user_ids: list[int], actor: User) -> None:
    """Replace the project's raters with these users (each must be an active rater)."""
    users = session.scalars(select(User).where(User.id.in_(user_ids or [-1]))).all()
    found = {u.id for u in users}
    errors = {}
    missing = sorted(set(user_ids) - found)
    if missing:
        errors["members"] = f"no such user: {', '.join(map(str, missing))}"
    not_raters = [u.email for u in users if u.role != "rater"]
    if not_raters:
        errors["members"] = f"only raters can be members: {', '.join(not_raters)}"
    if errors:
        raise ProjectError(errors)
    keep = {m.user_id: m for m in project.member_rows}
    project.member_rows = [keep.get(u.id) or ProjectMember(user_id=u.id, user=u) for u in users]
    audit(session, actor, "project.members", f"project:{project.id}", f"{len(users)} raters",
          project_id=project.id)
    session.flush()
