"""Read a YAML file an operator wrote, safely: bounded in size, nesting and alias expansion,
and strict about repeated keys. No I/O beyond reading the one file.

PyYAML's ``safe_load`` keeps the last of two equal keys without a word, and
expands aliases without bound (a few hundred bytes of nested aliases take
minutes and all memory). :func:`read_yaml` checks the node graph first, each
node once, then builds the document::

    try:
        raw = read_yaml(Path("rosetta.yaml"))
    except YamlFileError as exc:
        print(*exc.errors, sep="\n")    # "server.port: given twice (lines 2 and 4); ..."
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_VALUES", "YamlFileError", "read_yaml"]


class YamlFileError(Exception):
    """The file cannot be used: each line of :attr:`errors` says why, with its key path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def read_yaml(path: Path) -> Any:
    """The YAML document in the file at ``path`` (``None`` when empty); :class:`YamlFileError`."""
    return _parse_yaml(_read_text(path), path)


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


#: Largest config file read.
MAX_FILE_BYTES = 16 * 1024 * 1024
#: Deepest nesting of mappings and lists a config may have.
MAX_DEPTH = 64
#: Most values (keys, scalars, mappings, lists) a config may hold once YAML aliases are expanded.
MAX_VALUES = 1_000_000


def _read_text(path: Path) -> str:
    """The file's text: UTF-8, at most :data:`MAX_FILE_BYTES` (``/dev/zero`` is an error, not a hang)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise YamlFileError([f"{path}: config file not found"]) from None
    except OSError as exc:
        raise YamlFileError([f"{path}: cannot read config file: {exc}"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise YamlFileError([f"{path}: cannot read config file: larger than {MAX_FILE_BYTES} bytes"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlFileError([f"{path}: cannot read config file: {exc}"]) from None


class _TooLarge(Exception):
    """The config holds more than :data:`MAX_VALUES` values with its aliases expanded."""


def _parse_yaml(text: str, path: Path) -> Any:
    """The YAML document in ``text``, checked by :func:`_count` before it is built."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        errors: list[str] = []
        _count(node, "", 0, {}, errors)
        if errors:
            raise YamlFileError(errors)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise YamlFileError([f"{path}: not valid YAML: {exc}"]) from None
    except RecursionError:
        raise YamlFileError([f"{path}: not valid YAML: nested too deeply"]) from None
    except _TooLarge:
        message = f"the config holds more than {MAX_VALUES} values once its YAML aliases are expanded"
        raise YamlFileError([f"{path}: {message}"]) from None
    finally:
        loader.dispose()


def _count(node: yaml.Node, path: str, depth: int, sizes: dict[int, int], errors: list[str]) -> int:
    """How many values ``node`` holds with its aliases expanded; duplicate keys, alias
    loops and nesting deeper than :data:`MAX_DEPTH` go to ``errors``, and more than
    :data:`MAX_VALUES` values raise :class:`_TooLarge`.

    Each node is counted once (an alias reuses its anchor's count), so this
    takes time linear in the file however far its aliases would expand.
    """
    known = sizes.get(id(node))
    if known is not None:
        if known < 0:
            errors.append(f"{path or '<root>'}: refers to a value that contains it (a YAML alias loop)")
        return max(known, 0)
    if depth > MAX_DEPTH:
        errors.append(f"{path}: nested more than {MAX_DEPTH} levels deep")
        return 1
    sizes[id(node)] = -1
    total = 1
    for child, where in _children(node, path, errors):
        total += _count(child, where, depth + 1, sizes, errors)
        if total > MAX_VALUES:
            raise _TooLarge
    sizes[id(node)] = total
    return total


_MERGE = "tag:yaml.org,2002:merge"


def _children(node: yaml.Node, path: str, errors: list[str]) -> list[tuple[yaml.Node, str]]:
    """The nodes under ``node`` with their paths; a mapping key given twice goes to ``errors``.

    PyYAML would keep the last value of a repeated key without a word; keys a
    merge (``<<: *base``) brings in may be overridden, as YAML intends.
    """
    if isinstance(node, yaml.SequenceNode):
        return [(child, f"{path}[{i}]") for i, child in enumerate(node.value)]
    if not isinstance(node, yaml.MappingNode):
        return []
    children: list[tuple[yaml.Node, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for key, value in node.value:
        where = _join(path, key.value) if isinstance(key, yaml.ScalarNode) else path
        if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE:
            ident, line = (key.tag, key.value), key.start_mark.line + 1
            if ident in seen:
                errors.append(f"{where}: given twice (lines {seen[ident]} and {line}); YAML would silently keep the last")
            seen.setdefault(ident, line)
        children += [(key, where), (value, where)]
    return children
