"""GET /healthz: liveness, for anyone."""

from fastapi import APIRouter

from helper_daemon.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness", response_model=Health)
def healthz() -> dict:
    return {"status": "ok"}
