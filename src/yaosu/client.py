"""``yaosu.Client``: the Python way in, over the same HTTP API the console and CLI use."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq


class YaosuClientError(Exception):
    """An error answer from the server, with its code, message and detail."""

    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail


class Client:
    """Talks to a Yaosu server. For example::

    with Client("http://127.0.0.1:8000", token="ys_...") as client:
        farms = client.datasets(q="农产品")
        table = client.read(farms[0]["id"])  # a pyarrow.Table
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        lang: str = "zh-CN",
        timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept-Language": lang}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        response = self._http.request(method, path, **kw)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                error = {"code": f"HTTP_{response.status_code}", "message": response.text[:300]}
            raise YaosuClientError(
                response.status_code,
                error.get("code", "?"),
                error.get("message", ""),
                error.get("detail"),
            )
        return response

    # --- catalog ---------------------------------------------------------------------------

    def datasets(
        self,
        *,
        q: str | None = None,
        theme: str | None = None,
        openness: str | None = None,
        provider: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Every dataset you may see that matches, across pages."""
        return list(
            self.iter_datasets(q=q, theme=theme, openness=openness, provider=provider, limit=limit)
        )

    def iter_datasets(self, *, limit: int = 100, **filters: Any) -> Iterator[dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v is not None}
        offset = 0
        while True:
            page = self._call(
                "GET", "/api/v1/datasets", params={**params, "limit": limit, "offset": offset}
            ).json()
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/datasets/{dataset_id}").json()

    def create_dataset(self, *, title: str, theme: str, **fields: Any) -> dict[str, Any]:
        body = {"title": title, "theme": theme, **fields}
        return self._call("POST", "/api/v1/datasets", json=body).json()

    def update_dataset(self, dataset_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("PATCH", f"/api/v1/datasets/{dataset_id}", json=fields).json()

    def versions(self, dataset_id: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/api/v1/datasets/{dataset_id}/versions").json()["items"]

    def ingest(
        self,
        path: str | Path,
        *,
        dataset: str,
        sheet: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Uploads a file (streamed) as the dataset's next version."""
        path = Path(path)
        total = path.stat().st_size

        def chunks() -> Iterator[bytes]:
            sent = 0
            with path.open("rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    sent += len(chunk)
                    if progress:
                        progress(sent, total)
                    yield chunk

        params = {"filename": path.name, **({"sheet": sheet} if sheet else {})}
        response = self._call(
            "POST",
            f"/api/v1/datasets/{dataset}/versions",
            params=params,
            content=chunks(),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(total)},
        )
        return response.json()

    def read(self, dataset: str, *, version: int | None = None) -> pa.Table:
        """The rows of a version you may read (your own data, or open data) as an Arrow table."""
        number = version or self.dataset(dataset)["latest_version"]
        response = self._call("GET", f"/api/v1/datasets/{dataset}/versions/{number}/data")
        return pq.read_table(io.BytesIO(response.content))

    def read_pandas(self, dataset: str, *, version: int | None = None) -> Any:
        return self.read(dataset, version=version).to_pandas()

    def catalog(self) -> dict[str, Any]:
        """The catalog as DCAT 3 JSON-LD."""
        return self._call("GET", "/api/v1/catalog").json()

    # --- accounts and audit ----------------------------------------------------------------

    # --- privacy and tasks -----------------------------------------------------------------

    def screen(self, dataset: str, version: int, *, full: bool = False) -> dict[str, Any]:
        """Screens a version. A full scan of a large version runs in the background: this
        waits for its task and returns the screen either way."""
        response = self._call(
            "POST",
            f"/api/v1/datasets/{dataset}/versions/{version}/screens",
            params={"mode": "full" if full else "fast"},
        )
        if response.status_code == 202:
            task = self.wait(response.json()["id"])
            return self._call("GET", f"/api/v1/screens/{task['result']['screen']}").json()
        return response.json()

    def deidentify(self, dataset: str, version: int, recipe: dict[str, Any]) -> dict[str, Any]:
        """Applies a recipe into the next version; returns the derivation (waiting for the
        background task when the source is large)."""
        response = self._call(
            "POST", f"/api/v1/datasets/{dataset}/versions/{version}/deidentify", json=recipe
        )
        if response.status_code == 202:
            task = self.wait(response.json()["id"])
            return self._call("GET", f"/api/v1/derivations/{task['result']['derivation']}").json()
        return response.json()

    def task(self, task_id: str) -> dict[str, Any]:
        """A background task: its status, progress, and its result or error once ended."""
        return self._call("GET", f"/api/v1/tasks/{task_id}").json()

    def wait(self, task_id: str, *, timeout: float = 3600, poll: float = 0.5) -> dict[str, Any]:
        """Follows a task until it ends; a failed or cancelled task raises its error."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.task(task_id)
            if task["status"] == "done":
                return task
            if task["status"] in ("failed", "cancelled"):
                error = task.get("error") or {}
                raise YaosuClientError(
                    409, error.get("code", "JOB_FAILED"), error.get("message", ""), task
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} still {task['status']} after {timeout} s")
            time.sleep(poll)

    # --- governed use ------------------------------------------------------------------

    def query(
        self,
        contract: str,
        sql: str,
        *,
        epsilon: float = 0.0,
        bounds: dict[str, tuple[float, float]] | None = None,
        engine: str | None = None,
    ) -> pa.Table:
        """Runs governed SQL under a contract; the table's schema metadata carries what the
        answer cost (``epsilon``) and how accurate it is (``accuracy``, JSON)."""
        import json

        body: dict[str, Any] = {"contract_id": contract, "sql": sql, "epsilon": epsilon}
        if bounds:
            body["bounds"] = {k: list(v) for k, v in bounds.items()}
        if engine:
            body["engine"] = engine
        answer = self._call("POST", "/api/v1/queries", json=body).json()
        table = pa.Table.from_pylist(
            [dict(zip(answer["columns"], r, strict=True)) for r in answer["rows"]]
        )
        if not answer["rows"]:
            table = pa.table({c: pa.array([], pa.null()) for c in answer["columns"]})
        meta = {
            "epsilon": str(answer["epsilon"]),
            "delta": str(answer["delta"]),
            "accuracy": json.dumps(answer["accuracy"]),
            "epsilon_left": str(answer["epsilon_left"]),
        }
        return table.replace_schema_metadata(meta)

    def me(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/me").json()

    def audit_checkpoint(self, size: int | None = None) -> dict[str, Any]:
        path = "latest" if size is None else str(size)
        return self._call("GET", f"/api/v1/audit/checkpoints/{path}").json()

    def audit_consistency(self, first: int, second: int) -> dict[str, Any]:
        params = {"first": first, "second": second}
        return self._call("GET", "/api/v1/audit/consistency", params=params).json()

    def audit_inclusion(self, index: int, *, size: int | None = None) -> dict[str, Any]:
        params = {"size": size} if size else {}
        return self._call("GET", f"/api/v1/audit/entries/{index}/inclusion", params=params).json()

    def audit_cosign(self, size: int, signature: str) -> dict[str, Any]:
        body = {"signature": signature}
        return self._call(
            "POST", f"/api/v1/audit/checkpoints/{size}/cosignatures", json=body
        ).json()

    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v is not None}
        return self._call("GET", "/api/v1/audit", params=params).json()["items"]

    # --- the market ------------------------------------------------------------------------

    def products(self, **filters: Any) -> list[dict[str, Any]]:
        """Data products you may see (``status``, ``pricing_class``)."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._call("GET", "/api/v1/market/products", params=params).json()

    def quote(
        self, product: str, *, purpose: str, quantity: int, negotiation: str | None = None
    ) -> dict[str, Any]:
        """What ``quantity`` units of a product cost for ``purpose``, in fen, fees broken out."""
        params: dict[str, Any] = {"purpose": purpose, "quantity": quantity}
        if negotiation:
            params["negotiation"] = negotiation
        return self._call("GET", f"/api/v1/market/products/{product}/quote", params=params).json()

    def order(
        self,
        product: str,
        *,
        purpose: str,
        quantity: int,
        justification: str,
        days: int | None = None,
        negotiation: str | None = None,
    ) -> dict[str, Any]:
        """Places an order: priced now, and an access request for the product's terms filed.
        Follow it with ``order_status``; a paid one shows its ``payment_reference``."""
        body: dict[str, Any] = {
            "product_id": product,
            "purpose": purpose,
            "quantity": quantity,
            "justification": justification,
        }
        if days is not None:
            body["days"] = days
        if negotiation:
            body["negotiation_id"] = negotiation
        return self._call("POST", "/api/v1/market/orders", json=body).json()

    def orders(self, *, side: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Your organisation's purchases (``side="buying"``) and sales (``"selling"``)."""
        params = {k: v for k, v in (("side", side), ("status", status)) if v is not None}
        return self._call("GET", "/api/v1/market/orders", params=params).json()

    def order_status(self, order: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/market/orders/{order}").json()

    def accept_order(self, order: str) -> dict[str, Any]:
        """验收: accept the delivery; the escrow is released to the seller side."""
        return self._call("POST", f"/api/v1/market/orders/{order}/acceptance").json()

    def dispute_order(self, order: str, reason: str) -> dict[str, Any]:
        return self._call(
            "POST", f"/api/v1/market/orders/{order}/dispute", json={"reason": reason}
        ).json()

    def cancel_order(self, order: str, reason: str = "") -> dict[str, Any]:
        return self._call(
            "POST", f"/api/v1/market/orders/{order}/cancellation", json={"reason": reason}
        ).json()

    def certificate(self, number: str) -> dict[str, Any]:
        """A settled order's transaction certificate file (check it offline with
        ``yaosu market verify``)."""
        return self._call("GET", f"/api/v1/market/certificates/{number}").json()

    def statements(self, **filters: Any) -> list[dict[str, Any]]:
        """Settlement statements you may see (``org_id``, ``period``)."""
        params = {k: str(v) for k, v in filters.items() if v is not None}
        return self._call("GET", "/api/v1/market/statements", params=params).json()

    # --- revenue shares and lineage -----------------------------------------------------------

    def shares(self, *, org_id: str | None = None) -> list[dict[str, Any]]:
        """Revenue shares you may see: owed to your organisation, or taken from its sales."""
        params = {"org_id": org_id} if org_id else None
        return self._call("GET", "/api/v1/market/shares", params=params).json()["items"]

    def share_statement(self, org_id: str, *, year: int, month: int) -> dict[str, Any]:
        """A contributor's month: each share with the evidence of how it was valued."""
        params = {"org_id": org_id, "year": str(year), "month": str(month)}
        return self._call("GET", "/api/v1/market/shares/statement", params=params).json()

    def object_to_share(self, share: str, reason: str) -> dict[str, Any]:
        """Object to your share while it is held: it is frozen until decided."""
        return self._call(
            "POST", f"/api/v1/market/shares/{share}/objection", json={"reason": reason}
        ).json()

    def sharing_preview(self, product: str, *, seller_fen: int = 100_000) -> dict[str, Any]:
        """How a sale of a product would be split today."""
        return self._call(
            "GET",
            f"/api/v1/market/products/{product}/sharing/preview",
            params={"seller_fen": str(seller_fen)},
        ).json()

    def lineage(self, product: str) -> dict[str, Any]:
        """A product's lineage graph back to the uploads and organisations behind it."""
        return self._call("GET", f"/api/v1/market/products/{product}/lineage").json()

    def lineage_events(self, *, name: str | None = None) -> list[dict[str, Any]]:
        """The OpenLineage run events you may read (``name``: those naming one dataset)."""
        params = {"name": name} if name else None
        return self._call("GET", "/api/v1/lineage/events", params=params).json()["items"]

    # --- compute-to-data -------------------------------------------------------------------

    def file_algorithm(self, filing: dict[str, Any], *, bundle: bytes) -> dict[str, Any]:
        """File an algorithm (算法备案): the form's fields and its bundle, a zip's bytes
        (``yaosu algorithms bundle FOLDER --out x.zip`` makes one)."""
        body = dict(filing, bundle=_bundle64(bundle))
        return self._call("POST", "/api/v1/algorithms", json=body).json()

    def change_algorithm(self, algorithm: str, *, summary: str, bundle: bytes) -> dict[str, Any]:
        """File a change: a new version of the code, decided like the filing."""
        body = {"summary": summary, "bundle": _bundle64(bundle)}
        return self._call("POST", f"/api/v1/algorithms/{algorithm}/changes", json=body).json()

    def algorithms(self, *, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else None
        return self._call("GET", "/api/v1/algorithms", params=params).json()["items"]

    def algorithm(self, algorithm: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/algorithms/{algorithm}").json()

    def submit_job(
        self,
        contract: str,
        algorithm: str,
        *,
        params: dict[str, Any] | None = None,
        sha256: str | None = None,
        datasets: list[str] | None = None,
    ) -> dict[str, Any]:
        """Run a filed algorithm where the data is, under a contract; returns the job."""
        body = {
            "contract_id": contract,
            "algorithm_id": algorithm,
            "params": params or {},
            "sha256": sha256,
            "datasets": datasets,
        }
        return self._call("POST", "/api/v1/compute/jobs", json=body).json()

    def job(self, job: str) -> dict[str, Any]:
        """A compute job: state, progress, checked log, output check report, outputs."""
        return self._call("GET", f"/api/v1/compute/jobs/{job}").json()

    def wait_job(self, job: str, *, timeout: float = 3600, poll: float = 1.0) -> dict[str, Any]:
        """Follows a job until it is released, rejected, failed or cancelled (or held for the
        provider's review: that is an answer too, which may take days)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.job(job)
            if found["status"] in ("released", "rejected", "failed", "cancelled", "held"):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job} still {found['status']} after {timeout} s")
            time.sleep(poll)

    def job_output(self, job: str, name: str) -> bytes:
        """A released output's bytes (Parquet, JSON or Markdown)."""
        return self._call("GET", f"/api/v1/compute/jobs/{job}/outputs/{name}").content


def _bundle64(bundle: bytes) -> str:
    return base64.b64encode(bundle).decode("ascii")
