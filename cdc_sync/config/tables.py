"""``[[tables]]``: what each table becomes in Meilisearch, with its children and lookups."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from cdc_sync.config.values import DEBEZIUM_PLACEHOLDER, Duration, Identifier, IndexUid, Section

FieldType = Literal[
    "auto",
    "string",
    "integer",
    "float",
    "decimal",
    "boolean",
    "datetime",
    "epoch",
    "epoch_ms",
    "base64",
]
EpochUnit = Literal["days", "seconds", "millis", "micros", "nanos"]
_TIME_TYPES = ("auto", "string", "datetime", "epoch", "epoch_ms")


class FieldSpec(Section):
    """How one column becomes a field. `scale` and `unit` say what an envelope without
    schemas cannot: a decimal's scale (its value then comes as base64 unscaled bytes),
    and the unit of an epoch number (Debezium's Date, Timestamp, MicroTimestamp, …)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    type: FieldType = "auto"
    scale: int | None = Field(default=None, ge=-128, le=256)
    unit: EpochUnit | None = None

    @model_validator(mode="after")
    def _check_options(self) -> FieldSpec:
        if self.scale is not None and self.type != "decimal":
            raise ValueError('scale is for type = "decimal" (base64 unscaled bytes)')
        if self.unit is not None and self.type not in _TIME_TYPES:
            raise ValueError(f"unit is for type = {' | '.join(_TIME_TYPES)} (epoch numbers)")
        return self


def _spec_from_name(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


FieldMapping = Annotated[FieldSpec, BeforeValidator(_spec_from_name)]
"""A field: its name (``CASE_NO = "case_no"``) or ``{ name, type, scale, unit }``."""


class SoftDelete(Section):
    column: Identifier
    value: str | int | bool

    def matches(self, found: Any) -> bool:
        """Whether a column value marks its row deleted; the one rule for relay and consumer.

        Compared as text with trailing blanks ignored, as the database compares a
        CHAR column with a literal (blank-padded): ``CHAR(3)`` holds ``'Y  '``.
        """
        return found is not None and str(found).rstrip(" ") == str(self.value).rstrip(" ")


class IndexSettings(Section):
    searchable: list[str] | None = None
    filterable: list[str] | None = None
    sortable: list[str] | None = None
    displayed: list[str] | None = None
    ranking_rules: list[str] | None = None

    def as_meilisearch(self) -> dict[str, list[str]]:
        names = {
            "searchable": "searchableAttributes",
            "filterable": "filterableAttributes",
            "sortable": "sortableAttributes",
            "displayed": "displayedAttributes",
            "ranking_rules": "rankingRules",
        }
        return {
            api: value for key, api in names.items() if (value := getattr(self, key)) is not None
        }


class TableVerify(Section):
    """``verify = { every, rows_per_s, repair }`` of a table (unset: the ``[verify]`` value),
    or ``verify = false``."""

    enabled: bool = True
    every: Duration | None = None
    rows_per_s: float | None = Field(None, gt=0)
    """At most this table's share of the service's budget (it never exceeds ``[verify]``'s)."""
    repair: bool | None = None


def _verify_spec(value: Any) -> Any:
    if isinstance(value, bool):
        return {"enabled": value}
    if not isinstance(value, dict | TableVerify):
        raise ValueError("true, false or { every, rows_per_s, repair }")
    return value


TableVerifyOption = Annotated[TableVerify, BeforeValidator(_verify_spec)]


FieldMap = dict[Identifier, FieldMapping]


def _specs_of(fields: FieldMap | None) -> dict[str, FieldSpec] | None:
    return None if fields is None else dict(fields)


def _shared_fields(fields: FieldMap | None) -> list[str]:
    """`fields` entries that would produce one document field (one value lost)."""
    by_name: dict[str, list[str]] = {}
    for column, spec in (fields or {}).items():
        by_name.setdefault(spec.name, []).append(column)
    return [
        f"fields: {' and '.join(columns)} both become field {name!r}"
        for name, columns in by_name.items()
        if len(columns) > 1
    ]


def _check_filter(predicate: str | None) -> None:
    if predicate is not None and ";" in predicate:
        raise ValueError("filter must be a single SQL predicate (no ';')")


class ChildSettings(Section):
    """``[[tables.children]]``: rows of another table as an array field of the parent document."""

    name: Identifier
    schema_: Identifier | None = Field(None, alias="schema")
    primary_key: list[Identifier] = Field(min_length=1)
    parent_key: list[Identifier] = Field(min_length=1)
    """Child columns holding the parent's primary key, in the parent's key order."""
    field: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    fields: FieldMap | None = None
    order_by: list[Identifier] = Field(default_factory=list)
    filter: str | None = None
    modified_column: Identifier | None = None
    """Needed when the parent uses timestamp capture."""
    max_children: int = Field(1000, ge=1, le=1_000_000)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check(self) -> ChildSettings:
        _check_filter(self.filter)
        problems = _shared_fields(self.fields)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def qualified_name(self) -> str:
        return f"{self.schema_}.{self.name}" if self.schema_ else self.name

    def field_specs(self) -> dict[str, FieldSpec] | None:
        return _specs_of(self.fields)


class LookupSettings(Section):
    """``[[tables.lookups]]``: columns of a code table flattened into the parent document."""

    name: Identifier
    schema_: Identifier | None = Field(None, alias="schema")
    key: list[Identifier] = Field(min_length=1)
    parent_columns: list[Identifier] = Field(min_length=1)
    """Parent columns referencing the lookup's key, in key order."""
    fields: FieldMap = Field(min_length=1)
    modified_column: Identifier | None = None
    """Needed when the parent uses timestamp capture."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check(self) -> LookupSettings:
        if len(self.key) != len(self.parent_columns):
            raise ValueError(
                f"parent_columns has {len(self.parent_columns)} columns, key has {len(self.key)}"
            )
        return self

    @property
    def qualified_name(self) -> str:
        return f"{self.schema_}.{self.name}" if self.schema_ else self.name

    @property
    def label(self) -> str:
        """How events and the change log name this lookup of its parent: ``STATUS_CODE.STATUS``."""
        return ".".join([self.qualified_name, *self.parent_columns])

    def field_specs(self) -> dict[str, FieldSpec]:
        specs = _specs_of(self.fields)
        assert specs is not None
        return specs


class TableSettings(Section):
    name: Identifier
    schema_: Identifier | None = Field(None, alias="schema")
    primary_key: list[Identifier] = Field(min_length=1)
    index: IndexUid | None = None
    id_field: str = Field("id", pattern=r"^[A-Za-z0-9_-]+$")
    capture: Literal["trigger", "timestamp", "debezium"] = "trigger"
    topic: str | None = Field(None, pattern=r"^[A-Za-z0-9._-]+$")
    modified_column: Identifier | None = None
    soft_delete: SoftDelete | None = None
    filter: str | None = None
    fields: FieldMap | None = None
    exclude: list[Identifier] = Field(default_factory=list)
    decimals: Literal["float", "string"] = "string"
    binary: Literal["drop", "base64"] = "drop"
    settings: IndexSettings = Field(default_factory=IndexSettings)
    children: list[ChildSettings] = Field(default_factory=list)
    lookups: list[LookupSettings] = Field(default_factory=list)
    delete_sweep_interval: Duration | None = None
    """Timestamp capture: seconds between hard-delete sweeps (None: no sweep)."""
    max_document_bytes: int = Field(900_000, ge=1024)
    """Largest document (and relay event) accepted; larger ones are dead-lettered."""
    unavailable_value_placeholder: str = Field(DEBEZIUM_PLACEHOLDER, min_length=1)
    """Debezium capture: the connector's ``unavailable.value.placeholder`` (default: the
    ``[kafka]`` setting, else Debezium's)."""
    verify: TableVerifyOption = Field(default_factory=TableVerify)  # type: ignore[arg-type]
    """Continuous verification of this table (docs/verify.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check_mode(self) -> TableSettings:
        if self.capture == "timestamp" and not self.modified_column:
            raise ValueError("capture = 'timestamp' needs modified_column")
        _check_filter(self.filter)
        if self.delete_sweep_interval is not None and self.capture != "timestamp":
            raise ValueError(
                "delete_sweep_interval is for capture = 'timestamp' (trigger capture sees deletes)"
            )
        problems = self._composition_problems() or _shared_fields(self.fields)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _composition_problems(self) -> list[str]:
        if not self.composed:
            return []
        if self.capture == "debezium":
            return [
                "children and lookups need capture = 'trigger' or 'timestamp': Debezium "
                "publishes each table's rows on their own, so a parent's document cannot be "
                "rebuilt when a child or lookup row changes"
            ]
        problems = []
        fields = [c.field for c in self.children]
        for name in {f for f in fields if fields.count(f) > 1}:
            problems.append(f"children: field {name!r} is used by more than one child")
        labels = [lk.label for lk in self.lookups]
        for label in {x for x in labels if labels.count(x) > 1}:
            problems.append(f"lookups: {label} is configured more than once")
        for i, child in enumerate(self.children):
            if len(child.parent_key) != len(self.primary_key):
                problems.append(
                    f"children[{i}].parent_key has {len(child.parent_key)} columns, "
                    f"the primary key has {len(self.primary_key)}"
                )
            if self.capture == "timestamp" and not child.modified_column:
                problems.append(f"children[{i}].modified_column: needed by timestamp capture")
        names = [s.name for s in (self.field_specs() or {}).values()]
        names += fields + [s.name for lk in self.lookups for s in lk.field_specs().values()]
        for name in sorted({n for n in names if names.count(n) > 1 or n == self.id_field}):
            problems.append(
                f"document field {name!r} is produced twice (fields, children, lookups)"
            )
        for i, lookup in enumerate(self.lookups):
            if self.capture == "timestamp" and not lookup.modified_column:
                problems.append(f"lookups[{i}].modified_column: needed by timestamp capture")
        return problems

    @property
    def composed(self) -> bool:
        """Whether documents are built from several tables."""
        return bool(self.children or self.lookups)

    @property
    def index_uid(self) -> str:
        return self.index or self.name.lower()

    @property
    def qualified_name(self) -> str:
        return f"{self.schema_}.{self.name}" if self.schema_ else self.name

    def field_specs(self) -> dict[str, FieldSpec] | None:
        return _specs_of(self.fields)
