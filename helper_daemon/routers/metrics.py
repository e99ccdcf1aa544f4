from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus text format")
def metrics(request: Request) -> PlainTextResponse:
    state = request.app.state
    items = state.store.all_items()
    leases = state.db.query_one("SELECT count(*) FROM leases")[0]
    text = state.metrics.render(bytes_stored=sum(o.size for objs in items.values() for o in objs),
                                items_stored=sum(len(objs) for objs in items.values()), leases_held=leases)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
