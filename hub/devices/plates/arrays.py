"""The array type of the reader's modules. OpenCV's stubs type every result as a loose
`Mat | ndarray[Any, dtype[integer | floating]]`, so images and masks are NDArray[Any] here;
the dtype is in the docstrings and checked where data comes in (decode.py)."""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray

Array = NDArray[Any]
