"""The seccomp filter every sandboxed job runs under, compiled to the classic BPF program that
bubblewrap loads with ``--seccomp FD``.

Namespaces and dropped capabilities already stop most of these calls; the filter is the second
wall, for the day a kernel bug or a forgotten capability opens the first. Everything is allowed
except a short list of calls a data job never needs and an escape usually does: the network
(every socket family but AF_UNIX, which multiprocessing needs), tracing and reading other
processes, mounting and namespaces, kernel keyrings, BPF and perf, modules and kexec, and the
interfaces with a record of local privilege escalations (userfaultfd, io_uring). Refused calls
fail with EPERM, so a job sees an ordinary error rather than being killed mid-write.

Only the native architecture is listed: libseccomp makes the filter kill a thread that makes a
system call through another ABI (32-bit ``int 0x80`` or x32 on x86_64), the classic way around
a filter written for one ABI.
"""

from __future__ import annotations

import errno
import functools
import socket
import tempfile

import pyseccomp

DENIED: tuple[str, ...] = (
    # tracing and reading or writing another process's memory
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    # mounts, old API and new, and changing the root
    "mount",
    "umount2",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "chroot",
    "pivot_root",
    # namespaces (clone with namespace flags is refused separately, below)
    "unshare",
    "setns",
    # kernel interfaces a job has no business with
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "swapon",
    "swapoff",
    "reboot",
    # file handles bypass path-based confinement (the "shocker" container escape)
    "open_by_handle_at",
    "name_to_handle_at",
)
"""System calls refused with EPERM whatever their arguments."""

SOCKET_CALLS: tuple[str, ...] = ("socket", "socketpair")
"""Refused with EPERM unless the family (argument 0) is AF_UNIX: no network of any kind."""

CLONE_NAMESPACE_FLAGS: tuple[int, ...] = (
    0x00000080,  # CLONE_NEWTIME
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)
"""``clone`` with any of these flags is refused: it is ``unshare`` by another name. The flags are
argument 0 on x86_64 and aarch64 (not on s390x, which this filter does not support)."""


def _rules() -> pyseccomp.SyscallFilter:
    """The filter as libseccomp rules: default allow, the listed calls refused."""
    refuse = pyseccomp.ERRNO(errno.EPERM)
    rules = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    for name in DENIED:
        rules.add_rule(refuse, _number(name))
    for name in SOCKET_CALLS:
        rules.add_rule(refuse, _number(name), pyseccomp.Arg(0, pyseccomp.NE, socket.AF_UNIX))
    for flag in CLONE_NAMESPACE_FLAGS:
        rules.add_rule(refuse, _number("clone"), pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    # clone3 passes its flags in a struct the filter cannot read, so it is refused as a whole;
    # ENOSYS (not EPERM) makes glibc fall back to clone, whose flags the rule above does read.
    rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), _number("clone3"))
    return rules


def _number(name: str) -> int:
    """The native number of a system call; an unknown name is a bug here or a libseccomp too
    old to know the call, and either must stop the sandbox rather than weaken the filter."""
    number = pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
    if number == -1:
        raise RuntimeError(f"libseccomp does not know the system call {name!r}; upgrade it")
    return number


@functools.cache
def filter_bpf() -> bytes:
    """The compiled BPF program (built once per process: it depends on nothing but the
    architecture and libseccomp).

    >>> program = filter_bpf()
    >>> len(program) % 8  # struct sock_filter is 8 bytes
    0
    """
    with tempfile.TemporaryFile() as file:
        _rules().export_bpf(file)
        file.seek(0)
        return file.read()
