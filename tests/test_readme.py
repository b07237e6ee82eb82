"""The README's example of the Rust core from Python runs, and each `# -> value` comment
in it is true (the embedding examples are run by tests/test_embedding.py)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_is_true() -> None:
    block = re.search(r"```python\n(import engine\._core.*?)```", README.read_text(), re.S)
    assert block, "README has a python example"
    namespace: dict[str, object] = {}
    checked = 0
    for line in block.group(1).splitlines():
        code, arrow, claim = line.partition("# ->")
        if arrow:
            assert repr(eval(code.strip(), namespace)) == claim.strip(), line
            checked += 1
        elif line.strip():
            exec(line, namespace)
    assert checked >= 3
