"""Experiment management and results (scope ``admin``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from shelfwise.api.auth import AdminKey
from shelfwise.api.errors import ApiError
from shelfwise.api.routes.deps import finite_json, ready_services, services
from shelfwise.api.routes.reads import ERRORS
from shelfwise.api.schemas import ExperimentIn, ExperimentOut
from shelfwise.api.services import Services
from shelfwise.config import SettingsError
from shelfwise.experiments.config import NAME_PATTERN, Experiment

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])
Name = Annotated[str, Path(pattern=NAME_PATTERN, description="experiment name")]
NOT_FOUND = {**ERRORS, 404: {"description": "no such experiment"}}


def _get(svc: Services, name: str) -> Experiment:
    exp = svc.experiments.get(name)
    if exp is None:
        raise ApiError(404, "not_found", f"no experiment named {name!r}; GET /v1/experiments lists them")
    return exp


@router.get("", response_model=list[ExperimentOut], responses=ERRORS, summary="List experiments")
def list_experiments(request: Request, _key: AdminKey) -> list[ExperimentOut]:
    """Every experiment, oldest first."""
    return [ExperimentOut(**e.model_dump()) for e in services(request).experiments.list()]


@router.post(
    "",
    response_model=ExperimentOut,
    status_code=201,
    responses={**ERRORS, 409: {"description": "name taken"}},
    summary="Start an experiment",
)
def create_experiment(body: ExperimentIn, request: Request, _key: AdminKey) -> ExperimentOut:
    """Define named variants with traffic shares; users are assigned by hashing their id with the salt.

    A variant sets request fields (``params``: recommend ``method`` / ``diversity``, search
    ``personalise``) and/or settings overrides (``overrides``: ``["rerank.diversity=0.5"]``).
    """
    svc = services(request)
    try:
        exp = Experiment.model_validate(body.model_dump())
    except ValueError as exc:
        raise ApiError(422, "invalid_experiment", str(exc)) from None
    from shelfwise.api.components import arm_settings

    for v in exp.variants:
        try:
            arm_settings(svc.settings, v.overrides)
        except SettingsError as exc:
            raise ApiError(
                422,
                "invalid_overrides",
                f"variant {v.name!r}: {exc}",
                fix="use keys listed by `shelfwise config`, as section.key=value",
            ) from None
    try:
        exp = svc.experiments.create(exp)
    except KeyError:
        raise ApiError(409, "exists", f"an experiment named {exp.name!r} exists") from None
    return ExperimentOut(**exp.model_dump())


@router.get("/{name}", response_model=ExperimentOut, responses=NOT_FOUND, summary="One experiment")
def get_experiment(name: Name, request: Request, _key: AdminKey) -> ExperimentOut:
    """The definition."""
    return ExperimentOut(**_get(services(request), name).model_dump())


@router.post("/{name}/stop", response_model=ExperimentOut, responses=NOT_FOUND, summary="Stop")
def stop_experiment(name: Name, request: Request, _key: AdminKey) -> ExperimentOut:
    """Stop assigning users (results stay readable)."""
    svc = services(request)
    _get(svc, name)
    return ExperimentOut(**svc.experiments.set_status(name, "stopped").model_dump())


@router.post("/{name}/start", response_model=ExperimentOut, responses=NOT_FOUND, summary="Restart")
def start_experiment(name: Name, request: Request, _key: AdminKey) -> ExperimentOut:
    """Assign users again (the same users land in the same arms)."""
    svc = services(request)
    _get(svc, name)
    return ExperimentOut(**svc.experiments.set_status(name, "running").model_dump())


@router.delete("/{name}", responses=NOT_FOUND, summary="Delete")
def delete_experiment(name: Name, request: Request, _key: AdminKey) -> dict[str, Any]:
    """Forget the definition (logged impressions stay)."""
    svc = services(request)
    _get(svc, name)
    svc.experiments.delete(name)
    return {"deleted": name}


@router.get("/{name}/results", responses=NOT_FOUND, summary="Results per arm")
def results(name: Name, request: Request, _key: AdminKey) -> dict[str, Any]:
    """CTR, conversion, revenue per user, list diversity and brand-exposure fairness per arm with 95%
    confidence intervals; treatment-vs-control tests; the sample-ratio-mismatch check."""
    svc = ready_services(request)
    exp = _get(svc, name)
    svc.feedback.flush()
    from shelfwise.experiments.analysis import analyse

    return finite_json(
        analyse(
            svc.store, exp, svc.settings.experiments, default_consent=svc.settings.privacy.default_consent
        ).to_dict()
    )
