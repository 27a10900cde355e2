"""What the catalogue accepts from outside (API bodies, forms, import lines), bounded by the schema.

One declaration per field: the lengths come from the columns (``ColumnText(Asset.license)``), ids
from ``boundary.Id``, project settings from ``projects.SETTINGS``. The API's OpenAPI request
schemas are generated from these models.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import Field, create_model

from boundary import Body, ColumnText, Count, Form, FormNumber, Id, LONG_TEXT
from tasks.catalogue.models import CONSENT_STATES, KINDS, MODALITIES, Asset, Item, ItemOutput, Project
from tasks.catalogue.projects import SETTINGS

MAX_CRITERIA = 50  # a rubric's criteria, and the project form's rubric rows
MAX_MEMBERS = 10_000
MAX_SCALE = 100  # a rubric scale point's magnitude (projects.validate_rubric)
ScalePoint = Annotated[int, Field(ge=-MAX_SCALE, le=MAX_SCALE)]
LevelText = ColumnText(max_length=2_000)
Kind = Literal[KINDS]  # type: ignore[valid-type]
Modality = Literal[MODALITIES]  # type: ignore[valid-type]
Consent = Literal[CONSENT_STATES]  # type: ignore[valid-type]


def _setting_type(spec, *, form: bool = False):
    kind, _default, low, high = spec
    bounds = Field(ge=low, le=high) if kind is int else Field(ge=low, le=high, allow_inf_nan=False)
    parts = (int if kind is int else float, bounds) + ((FormNumber,) if form else ())
    return Optional[Annotated[parts]]  # noqa: UP007 (pydantic needs the runtime type)


SETTING_FIELDS = {name: (_setting_type(spec), None) for name, spec in SETTINGS.items()}
SETTING_FORM_FIELDS = {name: (_setting_type(spec, form=True), None) for name, spec in SETTINGS.items()}


class Criterion(Body):
    key: ColumnText(max_length=40)
    label: ColumnText(max_length=200)
    min: ScalePoint = 1
    max: ScalePoint = 5
    levels: dict[ColumnText(max_length=4), LevelText] = Field(default_factory=dict, max_length=2 * MAX_SCALE + 1)


class PairwiseCriterion(Body):
    """A per-criterion comparison of a pairwise project (its rules: ``projects.validate_pairwise_criteria``)."""
    key: ColumnText(max_length=200)
    name: Optional[ColumnText(max_length=500)] = None
    description: Optional[ColumnText(max_length=4_000)] = None


class _ProjectFields(Body):
    name: Optional[ColumnText(Project.name, min_length=1, strip=True)] = None
    kind: Optional[Kind] = None
    modality: Optional[Modality] = None
    instructions: Optional[ColumnText(Project.instructions)] = None
    rubric: Optional[list[Criterion]] = Field(None, max_length=MAX_CRITERIA)
    owner_id: Optional[Id] = None
    members: Optional[list[Id]] = Field(None, max_length=MAX_MEMBERS)
    pairwise_criteria: Optional[list[PairwiseCriterion]] = Field(None, max_length=MAX_CRITERIA)
    require_note: Optional[bool] = None


ProjectPatch = create_model("ProjectPatch", __base__=_ProjectFields, **SETTING_FIELDS)
ProjectPatch.__doc__ = "Change a project: send only the fields that change."


class ProjectCreate(ProjectPatch):
    name: ColumnText(Project.name, min_length=1, strip=True)
    kind: Kind
    modality: Modality


class CriterionRow(Form):
    """One rubric row of the project form (``rubric-<i>-key`` …); levels one ``point: text`` a line."""
    key: ColumnText(max_length=40, strip=True) = ""
    label: ColumnText(max_length=200, strip=True) = ""
    min: Annotated[ScalePoint, FormNumber] = 1
    max: Annotated[ScalePoint, FormNumber] = 5
    levels: ColumnText(max_length=(2 * MAX_SCALE + 1) * 2_010) = ""


_ProjectFormBase = create_model(
    "_ProjectFormBase", __base__=Form, **{k: (v, None) for k, (v, _d) in SETTING_FORM_FIELDS.items()})


class ProjectForm(_ProjectFormBase):
    name: ColumnText(Project.name, min_length=1, strip=True) = ""
    kind: Optional[Kind] = None
    modality: Optional[Modality] = None
    instructions: ColumnText(Project.instructions) = ""
    owner_id: Annotated[Optional[Id], FormNumber] = None
    rubric_rows: Annotated[Count(MAX_CRITERIA + 10), FormNumber] = 0
    pairwise_criteria: ColumnText(max_length=MAX_CRITERIA * 4_800) = ""  # one `key | Name | description` a line
    require_note: ColumnText(max_length=10) = ""


class MembersForm(Form):
    member: list[Annotated[Id, FormNumber]] = Field(default_factory=list, max_length=MAX_MEMBERS)


class Provenance(Body):
    """An asset's provenance (import lines, API, upload forms): each text fits its column."""
    source_model: Optional[ColumnText(Asset.source_model)] = None
    model_version: Optional[ColumnText(Asset.model_version)] = None
    generation_params: Optional[dict[ColumnText(max_length=200), Any]] = Field(None, max_length=200)
    rights_holder: Optional[ColumnText(Asset.rights_holder)] = None
    license: Optional[ColumnText(Asset.license)] = None
    consent: Optional[Consent] = None
    consent_ref: Optional[ColumnText(Asset.consent_ref)] = None


class AssetPatch(Provenance):
    note: ColumnText(max_length=LONG_TEXT) = ""


class ProvenanceForm(Form):
    """The provenance fields of the upload and edit forms (empty means not given)."""
    source_model: ColumnText(Asset.source_model) = ""
    model_version: ColumnText(Asset.model_version) = ""
    rights_holder: ColumnText(Asset.rights_holder) = ""
    license: ColumnText(Asset.license) = ""
    consent: ColumnText(Asset.consent) = ""
    consent_ref: ColumnText(Asset.consent_ref) = ""
    generation_params: ColumnText(max_length=20_000) = ""
    note: ColumnText(max_length=LONG_TEXT) = ""


class ItemQuery(Form):
    page: Annotated[Count(10**9, 1), FormNumber] = 1
    per_page: Annotated[Optional[Count(10**4, 1)], FormNumber] = None
    state: Optional[ColumnText(max_length=20)] = None
    q: ColumnText(max_length=200) = ""


# Import lines: the item's own texts (outputs' models, external ids) fit their columns.
EXTERNAL_ID = ColumnText(Item.external_id)
MODEL_NAME = ColumnText(ItemOutput.model)
