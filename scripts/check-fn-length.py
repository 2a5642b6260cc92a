#!/usr/bin/env python3
"""No function in non-test code over 60 lines without a reason written beside it.

For each .rs file under the given folders (default: src), every `fn` whose body (opening
brace to closing brace) spans more than MAX lines is an offender unless a comment
`// long: <reason>` sits in the block of comments and attributes directly above its
signature. Test code is skipped: files named *tests.rs or test_*.rs, `#[cfg(test)]` modules,
and src/fuzz_api.rs (libFuzzer harnesses). Prints file:line name (N lines); exit 1 if any.

The scan is lexical, not a parser: it blanks out comments, strings and char literals so
braces inside them do not count, then matches braces. Good enough for rustfmt'd code.
"""

import os
import re
import sys

MAX = 60
SKIP_FILES = {os.path.join("src", "fuzz_api.rs")}
FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")
LONG = re.compile(r"//\s*long:\s*\S")


def blank(text):
    """The text with comments, strings and char literals replaced by spaces (newlines kept),
    so that line numbers and brace positions stay where they were."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif (m := re.match(r'b?r(#*)"', text[i:])) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            # A char literal ('x', '\n', '\u{..}'), not a lifetime ('a).
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append(" " * m.end())
                i += m.end()
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching(code, open_at):
    """Index of the brace closing the one at `open_at`."""
    depth = 0
    for j in range(open_at, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code) - 1


def test_module_spans(code):
    """(start, end) offsets of `#[cfg(test)] mod name { ... }` blocks."""
    spans = []
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", code):
        open_at = m.end() - 1
        spans.append((m.start(), matching(code, open_at)))
    return spans


def has_reason(lines, sig_line):
    """A `// long:` comment in the comments/attributes block directly above line `sig_line`
    (0-based), or on the signature line itself."""
    if LONG.search(lines[sig_line]):
        return True
    k = sig_line - 1
    while k >= 0:
        s = lines[k].strip()
        if s.startswith("//") or s.startswith("#[") or s.startswith("#!["):
            if LONG.search(s):
                return True
            k -= 1
        elif s.endswith(")]") or s.endswith("]"):  # the tail of a multi-line attribute
            k -= 1
        else:
            break
    return False


def offenders(path, text):
    code = blank(text)
    lines = text.split("\n")
    skip = test_module_spans(code)
    found = []
    for m in FN.finditer(code):
        if any(a <= m.start() <= b for a, b in skip):
            continue
        # The body starts at the first `{` after the signature, unless a `;` comes first
        # (a trait method without a body).
        j = m.end()
        depth = 0
        while j < len(code):
            ch = code[j]
            # Angle brackets are not counted: `->` would unbalance them, and no `{` or `;`
            # appears inside generics of rustfmt'd code.
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif ch == ";" and depth <= 0:
                j = -1
                break
            elif ch == "{" and depth <= 0:
                break
            j += 1
        if j < 0 or j >= len(code):
            continue
        close = matching(code, j)
        first = code.count("\n", 0, j)
        last = code.count("\n", 0, close)
        length = last - first + 1
        sig_line = code.count("\n", 0, m.start())
        if length > MAX and not has_reason(lines, sig_line):
            found.append((path, sig_line + 1, m.group(1), length))
    return found


def skipped(path):
    name = os.path.basename(path)
    return (
        os.path.normpath(path) in SKIP_FILES
        or name.endswith("tests.rs")
        or name.startswith("test_")
    )


def main(roots):
    found = []
    for root in roots:
        for folder, _, files in os.walk(root):
            for name in sorted(files):
                path = os.path.join(folder, name)
                if not name.endswith(".rs") or skipped(path):
                    continue
                with open(path, encoding="utf-8") as f:
                    found += offenders(path, f.read())
    for path, line, name, length in sorted(found):
        print(f"{path}:{line} {name} ({length} lines)")
    if found:
        print(
            f"{len(found)} function(s) over {MAX} lines: split them, or write "
            "`// long: <reason>` directly above the signature",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["src"]))
