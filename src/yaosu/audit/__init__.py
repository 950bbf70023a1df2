"""The audit domain. Its offline verifier (verify.py) depends on nothing of Yaosu, so the
meaning of its error for a user is registered here: a check that fails is the log failing its
integrity check."""

from yaosu.audit.verify import VerificationError
from yaosu.kernel import errors


def _log_corrupt(exc: VerificationError) -> errors.YaosuError:
    return errors.LogCorrupt(problem=str(exc))


errors.register(VerificationError, _log_corrupt)

from yaosu.audit import labels as _labels  # noqa: F401, E402  (registers the labels on import)
