"""Take the network away from a SPARQL worker process, and bound its memory.

pyoxigraph executes SERVICE clauses over HTTP. The guard refuses them before a query reaches a worker,
but a lexer can disagree with the engine's parser; so the worker itself cannot open a network socket.
A seccomp filter (Linux, x86_64 and aarch64) makes `socket()` fail with EACCES for every address family
but AF_UNIX, and refuses io_uring (which can open sockets without `socket()`). The worker keeps the
socket pair to the web process it inherited. The filter needs no privilege (`PR_SET_NO_NEW_PRIVS`
first) and cannot be lifted by the process afterwards. Where seccomp is unavailable the worker runs as
before and `deny_network` says so, for the pool to log and export.
"""

from __future__ import annotations

import ctypes
import platform
import resource
import struct

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_EACCES = 0x00050000 | 13
_AF_UNIX = 1
_X32_BIT = 0x40000000
# machine -> (AUDIT_ARCH_*, socket syscall number, io_uring_setup syscall number)
_ARCHES = {"x86_64": (0xC000003E, 41, 425), "aarch64": (0xC00000B7, 198, 425)}

_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_NR, _ARCH, _ARG0 = 0, 4, 16  # offsets in struct seccomp_data (args[0]'s low half, little-endian)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def network_filter(arch: int, nr_socket: int, nr_io_uring: int) -> bytes:
    """The BPF program: other architectures' calls refused, socket() allowed only for AF_UNIX."""
    return b"".join(
        [
            _insn(_LD_W_ABS, _ARCH),
            _insn(_JEQ_K, arch, jt=1),  # a foreign ABI (i386 on x86_64): refuse everything
            _insn(_RET_K, _RET_EACCES),
            _insn(_LD_W_ABS, _NR),
            _insn(_JGE_K, _X32_BIT, jt=5),  # the x32 ABI on x86_64
            _insn(_JEQ_K, nr_io_uring, jt=4),
            _insn(_JEQ_K, nr_socket, jt=1),
            _insn(_RET_K, _RET_ALLOW),
            _insn(_LD_W_ABS, _ARG0),
            _insn(_JEQ_K, _AF_UNIX, jt=1),
            _insn(_RET_K, _RET_EACCES),
            _insn(_RET_K, _RET_ALLOW),
        ]
    )


def deny_network() -> str | None:
    """Install the filter in this process; None when done, else why it could not be."""
    arch = _ARCHES.get(platform.machine())
    if platform.system() != "Linux" or arch is None:
        return f"no seccomp filter for {platform.system()} {platform.machine()}"
    program = network_filter(*arch)
    buffer = ctypes.create_string_buffer(program)
    prog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p).value)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return f"prctl(PR_SET_NO_NEW_PRIVS) failed: errno {ctypes.get_errno()}"
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        return f"prctl(PR_SET_SECCOMP) failed: errno {ctypes.get_errno()}"
    return None


def limit_memory(megabytes: int) -> None:
    """Cap this process's data segment (heap and anonymous mappings) at `megabytes`; 0 leaves it unbounded.
    RLIMIT_DATA rather than RLIMIT_AS: read-only file mappings (an on-disk store) and thread stacks'
    reservations do not count, only what a query can actually fill."""
    if megabytes > 0:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
