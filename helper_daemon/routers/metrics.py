"""GET /metrics: the Prometheus text format, for anyone (it holds no names and no secrets)."""

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from helper_daemon import records
from helper_daemon.dependencies import DatabaseDep, MetricsDep, StoreDep

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus text format")
def metrics(db: DatabaseDep, store: StoreDep, counters: MetricsDep) -> PlainTextResponse:
    items = store.all_items()
    with db.snapshot() as conn:
        leases = records.lease_count(conn)
    text = counters.render(bytes_stored=sum(o.size for objs in items.values() for o in objs),
                           items_stored=sum(len(objs) for objs in items.values()), leases_held=leases)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
