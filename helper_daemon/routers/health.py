"""GET /healthz: liveness, for anyone."""

from fastapi import APIRouter

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness")
def healthz() -> dict:
    return {"status": "ok"}
