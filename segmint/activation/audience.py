"""Audience definitions: YAML files (or dbt models tagged `audience`), validated with pydantic.

An audience file looks like::

    name: winback_high_value
    description: At-risk customers who used to spend a lot
    conditions:
      all:
        - {column: risk_band, op: in, value: [high]}
        - {column: monetary, op: ">=", value: 500}
        - not: {column: recency_days, op: "<", value: 30}
    columns: [first_name, churn_probability]
    destinations:
      - hubspot
      - {format: postgres, table: activation_winback, on_remove: flag}
    holdout_share: 0.1

Conditions are a tree of `all` / `any` / `not` nodes over predicates `{column, op, value}`.
Column names and value types are checked against the real columns of
marts.customer_targeting; every problem names the file and the field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from segmint.activation.conditions import (
    AllOf,
    AnyOf,
    Condition,
    NotOf,
    Predicate,
    check_predicate,
    iter_predicates,
    parse_condition,
)
from segmint.activation.safe_yaml import MAX_BYTES, YamlLimitError, load_yaml, one_line
from segmint.activation.targeting import TARGETING, AudienceError, targeting_columns

FORMATS = (
    "hubspot",
    "salesforce",
    "mailchimp",
    "google_ads",
    "meta",
    "csv",
    "parquet",
    "jsonl",
    "postgres",
)
FormatName = Literal[
    "hubspot",
    "salesforce",
    "mailchimp",
    "google_ads",
    "meta",
    "csv",
    "parquet",
    "jsonl",
    "postgres",
]

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
COLUMN_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
SALESFORCE_FIELD_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,79}$"
PG_TABLE_PATTERN = r"^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$"
ENV_PATTERN = r"^[A-Z_][A-Z0-9_]{0,127}$"

HUBSPOT_PROPERTY_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"
MAILCHIMP_LIST_PATTERN = r"^[A-Za-z0-9]{1,32}$"

_FORMAT_OPTIONS: dict[str, frozenset[str]] = {
    "salesforce": frozenset({"external_id_field", "member_field", "field_map"}),
    "hubspot": frozenset({"member_field"}),
    "mailchimp": frozenset({"tags", "list_id"}),
    "postgres": frozenset({"table", "dsn_env", "key", "on_remove"}),
}
_ALL_OPTIONS = frozenset().union(*_FORMAT_OPTIONS.values())


# --------------------------------------------------------------------------- models


class Destination(BaseModel):
    """Where an audience goes: a vendor file format, a plain file format, or a Postgres table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: FormatName
    name: str | None = Field(None, pattern=NAME_PATTERN, description="Default: the format")
    # salesforce
    external_id_field: str = Field("Segmint_Customer_Key__c", pattern=SALESFORCE_FIELD_PATTERN)
    # salesforce and hubspot: the audience's own membership field (checkbox / boolean
    # property); default Segmint_<audience>__c (Salesforce), segmint_<audience> (HubSpot)
    member_field: str | None = None
    field_map: dict[str, str] = Field(default_factory=dict)
    # mailchimp
    tags: list[str] | None = None
    list_id: str | None = Field(None, pattern=MAILCHIMP_LIST_PATTERN)
    # postgres
    table: str | None = Field(None, pattern=PG_TABLE_PATTERN)
    dsn_env: str = Field("SEGMINT_POSTGRES_DSN", pattern=ENV_PATTERN)
    key: Literal["customer_key", "customer_id"] = "customer_key"
    on_remove: Literal["delete", "flag"] = "delete"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"format": data} if isinstance(data, str) else data

    @field_validator("field_map")
    @classmethod
    def _field_map(cls, value: dict[str, str]) -> dict[str, str]:
        for column, field in value.items():
            if not re.match(COLUMN_PATTERN, column):
                raise ValueError(f"invalid column name {column!r}")
            if not re.match(SALESFORCE_FIELD_PATTERN, field):
                raise ValueError(f"invalid Salesforce field name {field!r}")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        for tag in value or []:
            if not tag.strip() or len(tag) > 100 or "," in tag or "\n" in tag:
                raise ValueError(f"invalid tag {tag!r} (1-100 characters, no commas or newlines)")
        return value

    @model_validator(mode="after")
    def _options_fit_format(self) -> Destination:
        allowed = _FORMAT_OPTIONS.get(self.format, frozenset())
        misplaced = sorted((self.model_fields_set & _ALL_OPTIONS) - allowed)
        if misplaced:
            raise ValueError(f"option(s) {misplaced} do not apply to format {self.format}")
        if self.member_field is not None:
            problem = _member_field_problem(self.format, self.member_field)
            if problem:
                raise ValueError(f"member_field {self.member_field!r}: {problem}")
        return self

    @property
    def destination_name(self) -> str:
        """The name membership state is kept under (defaults to the format)."""
        return self.name or self.format


def _member_field_problem(fmt: str, name: str) -> str | None:
    """Why `name` cannot be the membership field of a `fmt` destination (None: it can)."""
    if fmt == "hubspot":
        if not re.match(HUBSPOT_PROPERTY_PATTERN, name):
            return "a HubSpot property name is lowercase letters, digits and underscores"
        return None
    # Salesforce custom field API names: a letter first, letters, digits and single
    # underscores, not ending in one; at most 40 characters before the __c suffix.
    base = name.removesuffix("__c")
    if (
        not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", base)
        or "__" in base
        or base.endswith("_")
        or len(base) > 40
    ):
        return (
            "a Salesforce custom field is <name>__c, the name up to 40 letters, digits "
            "or single underscores, starting with a letter"
        )
    return None


def member_field(audience: Audience, dest: Destination) -> str:
    """The field that says "member of this audience" at a CRM (one per audience, so a
    removal from one audience never clears another)."""
    if dest.member_field:
        return dest.member_field
    if dest.format == "hubspot":
        return f"segmint_{audience.name}"
    return f"Segmint_{audience.name}__c"


class Audience(BaseModel):
    """One audience: who (conditions or a dbt model), what (columns), where, holdout share."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    conditions: Any = None
    model: str | None = Field(None, pattern=PG_TABLE_PATTERN, description="dbt relation")
    columns: list[str] = Field(default_factory=list)
    destinations: list[Destination] = Field(min_length=1)
    holdout_share: float = Field(0.0, ge=0.0, lt=1.0)
    source: str = Field("", exclude=True, description="File or dbt node it came from")

    @field_validator("conditions", mode="before")
    @classmethod
    def _conditions(cls, value: Any) -> Condition | None:
        if value is None or isinstance(value, Predicate | AllOf | AnyOf | NotOf):
            return value
        return parse_condition(value)

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: list[str]) -> list[str]:
        for column in value:
            if not re.match(COLUMN_PATTERN, column):
                raise ValueError(f"invalid column name {column!r}")
        if len(set(value)) != len(value):
            raise ValueError("columns are listed more than once")
        return value

    @model_validator(mode="after")
    def _shape(self) -> Audience:
        if (self.conditions is None) == (self.model is None):
            raise ValueError("give exactly one of `conditions` (YAML) or `model` (dbt relation)")
        names = [d.destination_name for d in self.destinations]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"destination names must be unique, repeated: {duplicates}")
        for dest in self.destinations:
            if dest.format in ("salesforce", "hubspot") and dest.member_field is None:
                problem = _member_field_problem(dest.format, member_field(self, dest))
                if problem:
                    raise ValueError(
                        f"destination {dest.destination_name}: the default member field "
                        f"{member_field(self, dest)!r} does not fit ({problem}); set "
                        "member_field"
                    )
        return self

    def destination(self, name_or_format: str) -> Destination:
        """The destination of this name, else the one of this format, else an ad-hoc one."""
        for dest in self.destinations:
            if dest.destination_name == name_or_format:
                return dest
        matches = [d for d in self.destinations if d.format == name_or_format]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise AudienceError(
                [f"{self.source}: several destinations use format {name_or_format}; name one"]
            )
        if name_or_format not in FORMATS:
            raise AudienceError(
                [f"unknown format {name_or_format!r}; expected one of {', '.join(FORMATS)}"]
            )
        if name_or_format == "postgres":
            raise AudienceError(
                [f"{self.source}: declare the postgres destination (table, dsn_env) in the file"]
            )
        return Destination(format=name_or_format)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- loading


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def _problems(source: str, exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        loc = _loc(tuple(err["loc"]))
        # parse_condition already put the precise path in front of its message
        if msg.startswith("conditions"):
            lines.append(f"{source}: {msg}")
        else:
            lines.append(f"{source}: {loc}: {msg}")
    return lines


def audience_from_mapping(data: Any, source: str) -> Audience:
    """Validate one audience mapping; AudienceError naming `source` and each bad field."""
    if not isinstance(data, dict):
        raise AudienceError([f"{source}: expected a mapping at the top level"])
    try:
        return Audience.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise AudienceError(_problems(source, exc)) from None


def load_audience_file(path: Path) -> Audience:
    """Read and validate one YAML file (structure only; see check_audience for columns)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise YamlLimitError(f"file is {size:,} bytes, more than the {MAX_BYTES:,} allowed")
        data = load_yaml(path.read_text(encoding="utf-8"))
    except YamlLimitError as exc:
        raise AudienceError([f"{path}: refused: {exc}"]) from None
    except yaml.YAMLError as exc:
        raise AudienceError([f"{path}: not valid YAML: {one_line(exc)}"]) from None
    except OSError as exc:
        raise AudienceError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise AudienceError([f"{path}: cannot read: not UTF-8 text ({exc.reason})"]) from None
    return audience_from_mapping(data, str(path))


def load_dbt_audiences(manifest_path: Path) -> list[Audience]:
    """Audiences declared as dbt models tagged `audience` (config.meta.segmint holds the rest).

    In the model: `{{ config(tags=['audience'], meta={'segmint': {'destinations': ['csv'],
    'columns': [...], 'holdout_share': 0.1}}) }}`; the model selects `customer_id`.
    """
    manifest_path = Path(manifest_path)
    if not manifest_path.exists():
        return []
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    audiences: list[Audience] = []
    problems: list[str] = []
    for node in manifest.get("nodes", {}).values():
        tags = set(node.get("tags") or []) | set((node.get("config") or {}).get("tags") or [])
        if node.get("resource_type") != "model" or "audience" not in tags:
            continue
        meta = dict((node.get("config") or {}).get("meta") or node.get("meta") or {})
        spec = dict(meta.get("segmint") or {})
        relation = f"{node.get('schema')}.{node.get('alias') or node.get('name')}".lower()
        data = {
            "name": spec.pop("name", node.get("name")),
            "description": spec.pop("description", node.get("description") or ""),
            "model": relation,
            **spec,
        }
        try:
            audiences.append(audience_from_mapping(data, f"dbt model {node.get('name')}"))
        except AudienceError as exc:
            problems.extend(exc.problems)
    if problems:
        raise AudienceError(problems)
    return audiences


def check_audience(audience: Audience, schema: dict[str, str]) -> list[str]:
    """Problems of an audience against the real columns and types of customer_targeting."""
    problems: list[str] = []
    if audience.conditions is not None:
        for pred in iter_predicates(audience.conditions):
            problems.extend(check_predicate(pred, schema))
    for i, column in enumerate(audience.columns):
        if column not in schema:
            problems.append(f"columns[{i}]: unknown column {column!r} of {TARGETING}")
    for i, dest in enumerate(audience.destinations):
        for column in dest.field_map:
            if column not in schema:
                problems.append(
                    f"destinations[{i}].field_map: unknown column {column!r} of {TARGETING}"
                )
    return [f"{audience.source}: {p}" for p in problems]


def _audience_files(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise AudienceError([f"{folder}: audience folder does not exist"])
    return sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())


def shared_member_fields(audiences: list[Audience]) -> list[str]:
    """Problems: two audiences writing the same CRM membership field (removing a person
    from one would take them out of the other)."""
    owner: dict[tuple[str, str], str] = {}
    problems: list[str] = []
    for aud in audiences:
        for dest in aud.destinations:
            if dest.format not in ("salesforce", "hubspot"):
                continue
            key = (dest.format, member_field(aud, dest).lower())
            if key in owner and owner[key] != aud.name:
                problems.append(
                    f"{aud.source}: destination {dest.destination_name}: member_field "
                    f"{member_field(aud, dest)!r} is already used by audience {owner[key]}"
                )
            owner.setdefault(key, aud.name)
    return problems


def validate_audiences(
    folder: Path,
    con: duckdb.DuckDBPyConnection | None = None,
    dbt_manifest: Path | None = None,
) -> tuple[list[Audience], list[str]]:
    """Load every audience of a folder (and dbt manifest); return (valid ones, all problems)."""
    audiences: list[Audience] = []
    problems: list[str] = []
    for path in _audience_files(folder):
        try:
            audiences.append(load_audience_file(path))
        except AudienceError as exc:
            problems.extend(exc.problems)
    if dbt_manifest is not None:
        try:
            audiences.extend(load_dbt_audiences(dbt_manifest))
        except AudienceError as exc:
            problems.extend(exc.problems)
    seen: dict[str, str] = {}
    unique: list[Audience] = []
    for aud in audiences:
        if aud.name in seen:
            problems.append(f"{aud.source}: name: {aud.name!r} is already used by {seen[aud.name]}")
            continue
        seen[aud.name] = aud.source
        unique.append(aud)
    problems.extend(shared_member_fields(unique))
    if con is not None:
        schema = targeting_columns(con)
        checked = []
        for aud in unique:
            found = check_audience(aud, schema)
            problems.extend(found)
            if not found:
                checked.append(aud)
        unique = checked
    return unique, problems


def load_audiences(
    folder: Path,
    con: duckdb.DuckDBPyConnection | None = None,
    dbt_manifest: Path | None = None,
) -> list[Audience]:
    """Every audience, validated (against the table too when `con` is given); AudienceError else."""
    audiences, problems = validate_audiences(folder, con, dbt_manifest)
    if problems:
        raise AudienceError(problems)
    return audiences


def get_audience(
    name: str,
    folder: Path,
    con: duckdb.DuckDBPyConnection | None = None,
    dbt_manifest: Path | None = None,
) -> Audience:
    """One audience by name (validated); AudienceError when unknown or invalid."""
    audiences, problems = validate_audiences(folder, con, dbt_manifest)
    for aud in audiences:
        if aud.name == name:
            return aud
    mine = [p for p in problems if Path(p.split(": ", 1)[0]).stem == name]
    if mine:
        raise AudienceError(mine)
    known = ", ".join(sorted(a.name for a in audiences)) or "none"
    raise AudienceError([f"unknown audience {name!r} (known: {known})"])
