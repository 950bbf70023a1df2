"""Every key file is created once, atomically: many threads asking for a key that does not
exist yet all get the same, complete key, and no temporary file is left behind."""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from yaosu.audit import transparency
from yaosu.audit.keys import load_or_create
from yaosu.audit.verify import COSIGNATURE
from yaosu.kernel.settings import Settings
from yaosu.privacy.service import pseudonym_key
from yaosu.rights.service import certificate_signer


def _settings(home: Path) -> Settings:
    return Settings(home=home, database_url=f"sqlite:///{home / 'unused.db'}", env="development")


# Each creator: (what to call for a fresh home, the key file it makes there)
CREATORS: dict[str, tuple[Callable[[Path], str], Callable[[Path], Path]]] = {
    "audit log": (
        lambda home: transparency.log_signer(_settings(home)).verifier_key(),
        lambda home: _settings(home).audit_key_path,
    ),
    "certificates": (
        lambda home: certificate_signer(_settings(home)).verifier_key(),
        lambda home: home / "keys" / "certificates.key",
    ),
    "witness": (
        lambda home: load_or_create(
            home / "w" / "cac.key", "cac.example/w", COSIGNATURE
        ).verifier_key(),
        lambda home: home / "w" / "cac.key",
    ),
    "pseudonyms": (
        lambda home: pseudonym_key(_settings(home), "ds_race").hex(),
        lambda home: home / "keys" / "pseudonyms" / "ds_race.key",
    ),
}


def _race(create: Callable[[Path], str], home: Path, threads: int = 12) -> list[str]:
    """``threads`` threads ask at the same moment; every one must get an answer."""
    start = threading.Barrier(threads)
    got: list[str] = []
    failed: list[BaseException] = []

    def ask() -> None:
        start.wait()
        try:
            got.append(create(home))
        except BaseException as exc:
            failed.append(exc)

    workers = [threading.Thread(target=ask) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert failed == [], failed[:3]
    return got


@pytest.mark.parametrize("kind", sorted(CREATORS))
def test_concurrent_first_creation_gives_everyone_the_same_key(kind: str, tmp_path: Path) -> None:
    create, where = CREATORS[kind]
    for attempt in range(8):  # fresh homes: each is a new first creation
        home = tmp_path / f"home{attempt}"
        got = _race(create, home)
        assert len(got) == 12 and len(set(got)) == 1
        path = where(home)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
        assert create(home) == got[0]  # and the same key ever after


def test_key_paths_are_settings(tmp_path: Path) -> None:
    """Every key file sits where the settings say (the certificate key was once hard-coded under
    ``$YAOSU_HOME/keys``, whatever was configured)."""
    settings = Settings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        audit_key_file=tmp_path / "vault" / "audit.key",
        certificate_key_file=tmp_path / "vault" / "certificates.key",
    )
    transparency.log_signer(settings)
    certificate_signer(settings)
    pseudonym_key(settings, "ds_where")
    assert sorted(p.name for p in (tmp_path / "vault").iterdir()) == [
        "audit.key",
        "certificates.key",
    ]
    assert (settings.pseudonym_key_dir / "ds_where.key").exists()
    assert not (tmp_path / "home" / "keys" / "certificates.key").exists()


def test_no_key_path_is_spelled_outside_settings() -> None:
    """Key files are named by ``Settings`` only; everything else asks it."""
    import yaosu

    src = Path(yaosu.__file__).resolve().parent
    spelled = [
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if '"keys"' in path.read_text(encoding="utf-8")
        or '"witnesses"' in path.read_text(encoding="utf-8")
    ]
    assert spelled == ["kernel/settings.py"]
