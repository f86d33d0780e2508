"""Starts devcloud with one fix to its built-in RFB server, for the console tests and benchmark only, while
devcloud has the bug (the fix is applied only when the buggy line is still in devcloud/rfb.py).

devcloud/rfb.py reads SetEncodings with `_, count = struct.unpack(">xH", ...)`, which yields one value: the
RFB thread dies and every real VNC client (noVNC sends SetEncodings first) is disconnected. Reported to the
devcloud owners.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
BUGGY_LINE = '_, count = struct.unpack(">xH"'


def needed() -> bool:
    return BUGGY_LINE in (ROOT / "devcloud" / "rfb.py").read_text()


def start(state_dir: Path, **kwargs: float):  # noqa: ANN201 - tests.cloudharness.TestCloud
    """tests.cloudharness.start_devcloud, through this shim when devcloud still has the bug."""
    from tests.cloudharness import start_devcloud

    if not needed():
        return start_devcloud(state_dir, **kwargs)
    real_popen = subprocess.Popen

    def popen(args: list[str], **kwargs: object) -> subprocess.Popen:
        assert args[1:3] == ["-m", "devcloud"], args
        return real_popen([sys.executable, __file__, *args[3:]], **kwargs)  # type: ignore[call-overload]

    with mock.patch("tests.cloudharness.subprocess.Popen", popen):
        return start_devcloud(state_dir, **kwargs)


def _patch() -> None:
    from devcloud import rfb

    message = rfb.Client._message

    def fixed_message(self: rfb.Client, kind: int) -> None:
        if kind == 2:  # SetEncodings: padding, count, then count 32-bit encodings
            (count,) = struct.unpack(">xH", rfb._recv_exact(self.sock, 3))
            rfb._recv_exact(self.sock, 4 * count)
            return
        message(self, kind)

    rfb.Client._message = fixed_message  # type: ignore[method-assign]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    _patch()
    from devcloud.__main__ import main

    sys.exit(main(sys.argv[1:]))
