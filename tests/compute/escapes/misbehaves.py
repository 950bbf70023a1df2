"""Get the contract wrong in one of several ways (params["mode"])."""


def run(inputs, params):
    import pyarrow

    table = pyarrow.table({"town": ["a"], "amount": [1]})
    mode = params["mode"]
    if mode == "raise":
        raise ValueError("the forecast diverged")
    if mode == "kind":
        return {"charts": {"a": table}}
    if mode == "name":
        return {"tables": {"../escape": table}}
    if mode == "statistics":
        return {"statistics": {"by_town": table}}
    if mode == "type":
        return {"tables": {"a": [1, 2, 3]}}
    if mode == "metric":
        return {"metrics": {"nan": float("nan")}}
    if mode == "exit":
        raise SystemExit(0)
    return None
