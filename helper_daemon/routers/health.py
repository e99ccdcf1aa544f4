from fastapi import APIRouter

router = APIRouter()


@router.get("/healthz", tags=["operations"])
def healthz() -> dict:
    return {"status": "ok"}
