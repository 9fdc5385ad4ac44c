"""Containers of arrays ("pytrees"): parameters that are more than one array.

A model's parameters are a weight matrix and a bias, or a dict of layers: a *container* of
arrays, as in optax (which calls them pytrees). Here a container is a ``dict``, a
``NamedTuple``, or a ``list``/``tuple`` holding arrays or other containers, nested to any
depth; everything else is a *leaf*: a float, a NumPy array, a SymPy expression. A ``list`` or
``tuple`` that holds only numbers (``[-1.0, 1.0]``, ``[[1, 0], [0, 1]]``) is the array NumPy
reads it as, a leaf, as it always was in optlib; so is one of SymPy scalars.

Every optimizer acts leaf by leaf (:class:`optlib.Optimizer` maps its ``init`` and ``update``
over the leaves), and :func:`optlib.run` runs on containers. The functions here are what they
use; they never look inside a leaf.

>>> import numpy as np
>>> params = {"w": np.zeros((3, 2)), "b": np.ones(2)}
>>> leaves, structure = flatten(params)
>>> [leaf.shape for leaf in leaves], leaf_paths(structure)
([(3, 2), (2,)], ["['w']", "['b']"])
>>> map(lambda x: x + 1, params)["b"].tolist()
[2.0, 2.0]
>>> is_container([1.0, 2.0]), is_container([np.zeros(2), np.ones(3)])
(False, True)
"""

from __future__ import annotations

import builtins
import numbers
import sys

import numpy as np

__all__ = ["is_container", "flatten", "unflatten", "flatten_up_to", "leaf_paths", "map",
           "Structure"]


def _is_namedtuple(value) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _is_scalar(value) -> bool:
    """A number, a NumPy scalar, or a SymPy expression: what a leaf list may hold."""
    if isinstance(value, (numbers.Number, np.generic)):
        return True
    sympy = sys.modules.get("sympy")
    return sympy is not None and isinstance(value, sympy.Basic)


def _is_array_like(value) -> bool:
    """A list/tuple nested only of numbers (NumPy reads it as one array)."""
    if _is_scalar(value):
        return True
    if isinstance(value, (list, tuple)) and not _is_namedtuple(value):
        return all(_is_array_like(item) for item in value)
    return False


def is_container(value) -> bool:
    """True for a ``dict``, a ``NamedTuple``, or a ``list``/``tuple`` that is not array-like.

    Array-like means nested only of numbers (NumPy or SymPy scalars), as ``[-1.0, 1.0]``: that
    is one parameter, the array NumPy makes of it. An empty ``list`` or ``tuple`` is one too.
    """
    if isinstance(value, np.ndarray):  # the common case first: this runs at every step
        return False
    if isinstance(value, dict) or _is_namedtuple(value):
        return True
    if isinstance(value, (list, tuple)):
        return not _is_array_like(value)
    return False


class Structure:
    """The shape of a container without its leaves: what :func:`flatten` takes apart.

    ``kind`` is ``"leaf"``, ``"dict"``, ``"namedtuple"`` or ``"sequence"``; ``type`` the
    container's class; ``keys`` the dict keys, NamedTuple fields or sequence indices;
    ``children`` the structures of the items, in that order.
    """

    __slots__ = ("kind", "type", "keys", "children")

    def __init__(self, kind, type_=None, keys=(), children=()):
        self.kind, self.type, self.keys, self.children = kind, type_, tuple(keys), tuple(children)

    def __eq__(self, other):
        return (isinstance(other, Structure) and self.kind == other.kind
                and self.type is other.type and self.keys == other.keys
                and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.keys, self.children))

    def __repr__(self):
        return f"Structure({describe_structure(self)})"


LEAF = Structure("leaf")


def _items(value):
    """``(kind, keys, items)`` of a container."""
    if isinstance(value, dict):
        return "dict", tuple(value.keys()), tuple(value.values())
    if _is_namedtuple(value):
        return "namedtuple", tuple(type(value)._fields), tuple(value)
    return "sequence", tuple(range(len(value))), tuple(value)


def _rebuild(structure, children):
    kind, cls = structure.kind, structure.type
    if kind == "dict":
        pairs = builtins.zip(structure.keys, children, strict=True)
        try:
            return cls(pairs)
        except TypeError:  # a dict subclass that is not built from pairs (defaultdict)
            return dict(builtins.zip(structure.keys, children, strict=True))
    if kind == "namedtuple":
        return cls(*children)
    if cls is list or cls is tuple:
        return cls(children)
    try:
        return cls(children)
    except TypeError:
        return tuple(children)


# The recursive walks are module-level functions that take their output list as an argument:
# a nested function that calls itself is a reference cycle, which would keep every array it
# saw alive until the garbage collector runs (in a long run, hundreds of iterates at once).


def _flatten_into(value, leaves):
    if not is_container(value):
        leaves.append(value)
        return LEAF
    kind, keys, items = _items(value)
    return Structure(kind, type(value), keys, [_flatten_into(item, leaves) for item in items])


def flatten(tree):
    """``(leaves, structure)``: the leaves in order (depth first) and the container's shape.

    A leaf (anything that is not a container, see :func:`is_container`) gives ``[tree]``
    and the leaf structure.
    """
    leaves = []
    structure = _flatten_into(tree, leaves)
    return leaves, structure


def _build(node, leaves):
    if node.kind == "leaf":
        return next(leaves)
    return _rebuild(node, [_build(child, leaves) for child in node.children])


def unflatten(structure, leaves):
    """The container of shape ``structure`` with ``leaves`` in place (inverse of flatten)."""
    return _build(structure, iter(leaves))


def _path_step(node, key):
    return f".{key}" if node.kind == "namedtuple" else f"[{key!r}]"


def leaf_paths(structure):
    """The path of each leaf, as Python would index it: ``"['layer']['w']"``, ``"[0]"``,
    ``".bias"``; ``""`` for a leaf that is the whole tree."""
    paths = []
    _paths_into(structure, "", paths)
    return paths


def _paths_into(node, path, paths):
    if node.kind == "leaf":
        paths.append(path)
        return
    for key, child in builtins.zip(node.keys, node.children, strict=True):
        _paths_into(child, path + _path_step(node, key), paths)


def describe_structure(structure) -> str:
    """A short description of a structure, for error messages."""
    if structure.kind == "leaf":
        return "a leaf (an array, a number or a SymPy expression)"
    if structure.kind == "dict":
        return f"a dict with keys {list(structure.keys)}"
    name = structure.type.__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    if structure.kind == "namedtuple":
        return f"{article} {name} (NamedTuple) with fields {structure.keys}"
    return f"{article} {name} of {len(structure.keys)} items"


def describe(value) -> str:
    """A short description of any value, for error messages."""
    if value is None:
        return "None"
    if is_container(value):
        kind, keys, _ = _items(value)
        return describe_structure(Structure(kind, type(value), keys))
    sympy = sys.modules.get("sympy")
    if sympy is not None and isinstance(value, sympy.Basic):
        return "a SymPy expression"
    try:
        return f"an array of shape {np.shape(value)}"
    except Exception:  # not array-like at all
        return f"a {type(value).__name__}"


def flatten_up_to(structure, tree, name="tree", *, strict=True):
    """The items of ``tree`` at the leaves of ``structure``, which ``tree`` must share.

    Where ``structure`` has a leaf, ``tree`` may hold anything if ``strict`` is false: an
    optimizer's state for one parameter (a NamedTuple of its own) is such an item. With
    ``strict``, it must hold a leaf too. ``ValueError`` names the place (``name`` and the
    path), what was expected there and what came.

    >>> import numpy as np
    >>> _, s = flatten({"w": np.zeros(2), "b": 0.0})
    >>> flatten_up_to(s, {"b": 1.0, "w": 2.0}, "grad")
    [2.0, 1.0]
    >>> flatten_up_to(s, {"w": 2.0}, "grad")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: grad does not have the structure ...: expected a dict with keys ['w', 'b'] ...
    """
    items = []
    try:
        _up_to_into(structure, tree, None, name, strict, items)
    except _Mismatch:  # walk again, keeping the path this time, to say where
        _up_to_into(structure, tree, "", name, strict, [])
        raise AssertionError("unreachable: the second walk raises") from None
    return items


class _Mismatch(Exception):
    """Raised by the fast walk (no paths kept) at a mismatch."""


def _mismatch(node, value, path, name):
    if path is None:
        return _Mismatch()
    return ValueError(
        f"{name} does not have the structure of the parameters: expected "
        f"{describe_structure(node)} at {name}{path}, got {describe(value)}"
    )


def _up_to_into(node, value, path, name, strict, items):
    """Collect into ``items``; ``path`` is None on the fast walk, which keeps no paths."""
    if node.kind == "leaf":
        if strict and is_container(value):
            raise _mismatch(node, value, path, name)
        items.append(value)
        return
    if node.kind == "dict":
        if not isinstance(value, dict) or set(value.keys()) != set(node.keys):
            raise _mismatch(node, value, path, name)
        children = [value[key] for key in node.keys]
    elif node.kind == "namedtuple":
        if type(value) is not node.type:
            raise _mismatch(node, value, path, name)
        children = list(value)
    else:
        if (not isinstance(value, (list, tuple)) or _is_namedtuple(value)
                or len(value) != len(node.keys)):
            raise _mismatch(node, value, path, name)
        children = list(value)
    for key, child, item in builtins.zip(node.keys, node.children, children, strict=True):
        child_path = None if path is None else path + _path_step(node, key)
        _up_to_into(child, item, child_path, name, strict, items)


def map(function, tree, *rest, names=None):  # noqa: A001 - optax's name (tree.map)
    """``function`` applied leaf by leaf: ``function(leaf, *matching items of rest)``.

    The result has ``tree``'s structure. Each of ``rest`` must have that structure up to
    ``tree``'s leaves (what sits there is passed whole, so it may be a container itself).
    ``names`` (one per ``rest``) name them in errors.
    """
    leaves, structure = flatten(tree)
    names = names or [f"argument {i + 2}" for i in range(len(rest))]
    others = [flatten_up_to(structure, other, label, strict=False)
              for other, label in builtins.zip(rest, names, strict=True)]
    results = [function(*args) for args in builtins.zip(leaves, *others, strict=True)]
    return unflatten(structure, results)
