"""What every campaign of this directory shares: the ArTP dictionary and the libFuzzer start.

The targets are scripts (``python fuzz/fuzz_X.py ...``), so this module is found beside them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import atheris

#: Message types and field names, so the fuzzer reaches past "not valid JSON" quickly.
DICTIONARY = Path(__file__).with_name("artp.dict")


def fuzz(test_one_input: Callable[[bytes], None]) -> None:
    """Run libFuzzer on ``test_one_input`` with the command line's options and the dictionary."""
    argv = list(sys.argv)
    if not any(arg.startswith("-dict=") for arg in argv):
        argv.append(f"-dict={DICTIONARY}")
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
