"""Runs devcloud with one fix to its built-in RFB server, for the console tests only, while devcloud has the bug.

devcloud/rfb.py reads SetEncodings with `_, count = struct.unpack(">xH", ...)`, which yields one value: the
RFB thread dies and every real VNC client (noVNC sends SetEncodings first) is disconnected. Reported to the
devcloud owners; tests/consoles/conftest.py uses this only while the bug is in the source.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from devcloud import rfb  # noqa: E402
from devcloud.__main__ import main  # noqa: E402

_message = rfb.Client._message


def _fixed_message(self: rfb.Client, kind: int) -> None:
    if kind == 2:  # SetEncodings: padding, count, then count 32-bit encodings
        (count,) = struct.unpack(">xH", rfb._recv_exact(self.sock, 3))
        rfb._recv_exact(self.sock, 4 * count)
        return
    _message(self, kind)


rfb.Client._message = _fixed_message  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
