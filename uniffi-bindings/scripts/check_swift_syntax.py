#!/usr/bin/env python3
"""Parses Swift files with tree-sitter-swift and fails on ERROR/MISSING nodes.

Usage: check_swift_syntax.py FILE.swift...

A syntax parse is all that can be checked without a Swift toolchain: it
catches unbalanced braces, malformed declarations and typos in keywords,
not type errors. The uniffi-generated Swift is not parsed: it puts `#if`
around attributes, which the grammar does not accept (it is instead
compared byte for byte with a fresh generation).
"""

import sys

import tree_sitter_swift
from tree_sitter import Language, Parser


def problems(tree):
    """Yields (row, column, kind) for every ERROR or MISSING node."""
    cursor = [tree.root_node]
    while cursor:
        node = cursor.pop()
        if node.type == "ERROR":
            yield node.start_point[0] + 1, node.start_point[1] + 1, "syntax error"
        elif node.is_missing:
            yield node.start_point[0] + 1, node.start_point[1] + 1, f"missing {node.type}"
        cursor.extend(reversed(node.children))


def main(paths):
    if not paths:
        print("check_swift_syntax: no files given", file=sys.stderr)
        return 2
    parser = Parser(Language(tree_sitter_swift.language()))
    failed = 0
    for path in paths:
        with open(path, "rb") as f:
            source = f.read()
        found = list(problems(parser.parse(source)))
        lines = source.decode("utf-8", "replace").splitlines()
        for row, col, kind in found:
            text = lines[row - 1].strip() if row - 1 < len(lines) else ""
            print(f"{path}:{row}:{col}: {kind}: {text}")
        failed += bool(found)
    print(f"swift syntax: {len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
