"""Break the output's bounds: one file past the size limit ("big"), files each under it but
together over it ("spread"), more files than allowed ("many"), a symbolic link to a host file
("symlink")."""

import os


def run(inputs, params):
    size = params.get("bytes", 0)
    if params["mode"] == "big":
        return {"report": "x" * size}
    if params["mode"] == "spread":
        return {"report": "x" * size, "model": b"x" * size}
    if params["mode"] == "many":
        import pyarrow

        return {"tables": {f"t{i}": pyarrow.table({"i": [i]}) for i in range(params["files"])}}
    os.symlink("/etc/passwd", "/output/leak")
    return {}
