"""The small DOM interface the math pass is written against, for lxml and for resiliparse (lexbor).

The pass needs little: elements found by tag, class and attribute in document order; an element's
tag, attributes, text, parent, children and next sibling; replacing an element by a text or removing
it; and the page's text as runs of text slots (a run is the inline text of one block, so a formula
split by ``<i>`` or ``<br>`` is still seen whole). :class:`LxmlDom` and :class:`LexborDom` implement
it; everything else in this package is written once, against :class:`Dom`.

A text slot is where a piece of text lives: an lxml element's ``.text`` or ``.tail``, or a lexbor
text node. Slots are rewritten in place, so the tree's structure does not change while it is walked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from lxml import etree
from resiliparse.parse.html import NodeType

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from resiliparse.parse.html import DOMNode, HTMLTree

__all__ = ["Dom", "LexborDom", "LxmlDom"]

N = TypeVar("N")
S = TypeVar("S")


class Dom(Protocol[N, S]):
    """Element access and text slots of one parsed page (``N``: element, ``S``: text slot)."""

    def select(
        self, tags: Sequence[str], class_parts: Sequence[str], attr_parts: Sequence[tuple[str, str, str]]
    ) -> list[N]:
        """Elements with one of ``tags``, a class attribute containing one of ``class_parts``, or
        matching one of ``attr_parts`` (tag or "*", attribute, substring of its value or "" for
        any value); in document order."""
        ...

    def tag(self, node: N) -> str: ...
    def attr(self, node: N, name: str) -> str | None: ...
    def text(self, node: N) -> str: ...
    def parent(self, node: N) -> N | None: ...
    def children(self, node: N) -> list[N]: ...
    def next_element(self, node: N) -> N | None: ...
    def descendants(self, node: N, tag: str) -> list[N]: ...
    def contains(self, outer: N, inner: N) -> bool: ...
    def inside(self, node: N, tag: str) -> bool:
        """Whether an ancestor of ``node`` is a ``tag`` element."""
        ...

    def replace_with_text(self, node: N, text: str) -> None: ...
    def remove(self, node: N) -> None: ...
    def text_runs(
        self, blocks: frozenset[str], skips: frozenset[str], wanted: Callable[[str], bool]
    ) -> Iterator[list[S]]:
        """Runs of text slots, one per stretch of inline text between block boundaries, in document
        order; ``skips`` subtrees are left out, and so are blocks whose text is not ``wanted``."""
        ...

    def slot_text(self, slot: S) -> str: ...
    def all_text(self) -> str: ...
    def set_slot_text(self, slot: S, text: str) -> None: ...


# --- lxml --------------------------------------------------------------------------------------

_LxmlSlot = tuple[Any, bool]  # (element, is_tail)


def _local(tag: Any) -> str:
    # lxml.html keeps a prefix it does not know as part of the name ("m:math")
    return tag.rsplit(":", 1)[-1].lower() if isinstance(tag, str) else ""


@functools.cache
def _xpath(
    tags: tuple[str, ...], class_parts: tuple[str, ...], attr_parts: tuple[tuple[str, str, str], ...]
) -> etree.XPath:
    """One compiled XPath for :meth:`LxmlDom.select`: a union of simple paths, each a single walk in
    C (about three times faster than one path testing every element against every condition)."""
    paths = [f"//{tag}" for tag in tags]
    if class_parts:
        paths.append(f"//*[@class][{' or '.join(f'contains(@class,{c!r})' for c in class_parts)}]")
    by_tag: dict[str, list[str]] = {}
    for tag, name, part in attr_parts:
        by_tag.setdefault(tag, []).append(f"contains(@{name},{part!r})" if part else f"@{name}")
    paths += [f"//{tag}[{' or '.join(tests)}]" for tag, tests in by_tag.items()]
    return etree.XPath(" | ".join(paths))


class LxmlDom:
    """:class:`Dom` over an ``lxml.html`` tree (the trafilatura engine's parse)."""

    def __init__(self, root: HtmlElement) -> None:
        self.root = root

    def select(
        self, tags: Sequence[str], class_parts: Sequence[str], attr_parts: Sequence[tuple[str, str, str]]
    ) -> list[Any]:
        return list(_xpath(tuple(tags), tuple(class_parts), tuple(attr_parts))(self.root))

    def tag(self, node: Any) -> str:
        return _local(node.tag)

    def attr(self, node: Any, name: str) -> str | None:
        value = node.get(name)
        return value if isinstance(value, str) else None

    def text(self, node: Any) -> str:
        return "".join(node.itertext())

    def parent(self, node: Any) -> Any:
        return node.getparent()

    def children(self, node: Any) -> list[Any]:
        return [c for c in node if isinstance(c.tag, str)]

    def next_element(self, node: Any) -> Any:
        sibling = node.getnext()
        while sibling is not None and not isinstance(sibling.tag, str):
            sibling = sibling.getnext()
        return sibling

    def descendants(self, node: Any, tag: str) -> list[Any]:
        return list(node.xpath(f".//*[local-name()='{tag}']"))

    def contains(self, outer: Any, inner: Any) -> bool:
        return any(a is outer for a in inner.iterancestors()) if outer is not inner else True

    def inside(self, node: Any, tag: str) -> bool:
        return next(node.iterancestors(tag), None) is not None

    def replace_with_text(self, node: Any, text: str) -> None:
        parent = node.getparent()
        if parent is None:
            return
        joined = text + (node.tail or "")
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + joined
        else:
            parent.text = (parent.text or "") + joined
        parent.remove(node)

    def remove(self, node: Any) -> None:
        self.replace_with_text(node, "")

    def text_runs(
        self, blocks: frozenset[str], skips: frozenset[str], wanted: Callable[[str], bool]
    ) -> Iterator[list[_LxmlSlot]]:
        # An explicit stack, not recursion: huge_tree pages nest up to 2048 levels.
        run: list[_LxmlSlot] = []
        root = self.root
        if root.text:
            run.append((root, False))
        stack = [(root, iter(root))]
        while stack:
            parent, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if _local(parent.tag) in blocks and run:
                    yield run
                    run = []
                if stack and parent.tail:
                    run.append((parent, True))
                continue
            tag = _local(child.tag)
            if not tag:  # comment or processing instruction: only its tail is text
                if child.tail:
                    run.append((child, True))
                continue
            if tag in skips or tag in blocks:
                if run:
                    yield run
                    run = []
                # a block without any opener in its text cannot hold a formula: not walked
                if tag in skips or not wanted(child.text_content()):
                    if child.tail:
                        run.append((child, True))
                    continue
            if child.text:
                run.append((child, False))
            stack.append((child, iter(child)))
        if run:
            yield run

    def all_text(self) -> str:
        return str(self.root.text_content())

    def slot_text(self, slot: _LxmlSlot) -> str:
        element, is_tail = slot
        return (element.tail if is_tail else element.text) or ""

    def set_slot_text(self, slot: _LxmlSlot, text: str) -> None:
        element, is_tail = slot
        if is_tail:
            element.tail = text
        else:
            element.text = text


# --- lexbor (resiliparse) ----------------------------------------------------------------------


class LexborDom:
    """:class:`Dom` over a resiliparse ``HTMLTree`` (the fast engine's parse)."""

    def __init__(self, tree: HTMLTree) -> None:
        self.tree = tree

    def select(
        self, tags: Sequence[str], class_parts: Sequence[str], attr_parts: Sequence[tuple[str, str, str]]
    ) -> list[Any]:
        if self.tree.document is None:
            return []
        selectors = [*tags, *(f'[class*="{c}"]' for c in class_parts)]
        for tag, name, part in attr_parts:
            test = f'[{name}*="{part}"]' if part else f"[{name}]"
            selectors.append(test if tag == "*" else tag + test)
        # .values() builds the list once; iterating the NodeList re-walks it per item
        return self.tree.document.query_selector_all(", ".join(selectors)).values()

    def tag(self, node: Any) -> str:
        return (node.tag or "").rsplit(":", 1)[-1].lower()

    def attr(self, node: Any, name: str) -> str | None:
        return node.getattr(name)

    def text(self, node: Any) -> str:
        return node.text or ""

    def parent(self, node: Any) -> Any:
        parent = node.parent
        return parent if parent is not None and parent.type == NodeType.ELEMENT else None

    def children(self, node: Any) -> list[Any]:
        return node.children.values()

    def next_element(self, node: Any) -> Any:
        return node.next_element

    def descendants(self, node: Any, tag: str) -> list[Any]:
        return node.get_elements_by_tag_name(tag).values()

    def contains(self, outer: Any, inner: Any) -> bool:
        return bool(outer.contains(inner))

    def inside(self, node: Any, tag: str) -> bool:
        parent = node.parent
        return parent is not None and parent.type == NodeType.ELEMENT and parent.closest(tag) is not None

    def replace_with_text(self, node: Any, text: str) -> None:
        if node.parent is None:
            return
        if text:
            node.replace_with(self.tree.create_text_node(text))
        else:
            node.remove()

    def remove(self, node: Any) -> None:
        if node.parent is not None:
            node.remove()

    def text_runs(
        self, blocks: frozenset[str], skips: frozenset[str], wanted: Callable[[str], bool]
    ) -> Iterator[list[DOMNode]]:
        start = self.tree.body or self.tree.document
        if start is None:
            return
        run: list[DOMNode] = []
        node = start.first_child
        while node is not None:
            descend = False
            if node.type == NodeType.TEXT:
                run.append(node)
            elif node.type == NodeType.ELEMENT:
                tag = (node.tag or "").lower()
                if (tag in blocks or tag in skips) and run:
                    yield run
                    run = []
                descend = tag not in skips and node.first_child is not None
                # a block without any opener in its text cannot hold a formula: not walked
                descend = descend and (tag not in blocks or wanted(node.text or ""))
            if descend:
                node = node.first_child
                continue
            # climb until a next sibling exists, closing the blocks left on the way
            while node is not None and node != start and node.next_sibling is None:
                node = node.parent
                if node is not None and node.type == NodeType.ELEMENT and (node.tag or "") in blocks and run:
                    yield run
                    run = []
            if node is None or node == start:
                break
            node = node.next_sibling
        if run:
            yield run

    def all_text(self) -> str:
        start = self.tree.body or self.tree.document
        return (start.text or "") if start is not None else ""

    def slot_text(self, slot: DOMNode) -> str:
        return slot.text or ""

    def set_slot_text(self, slot: DOMNode, text: str) -> None:
        slot.text = text
