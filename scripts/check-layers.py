#!/usr/bin/env python3
"""Checks two of ARCHITECTURE.md's invariants that the compiler doesn't:

1. No import cycle between the modules (files) of a crate. A file's dependencies are the
   `crate::…`, `super::…` and `self::…` paths it names, resolved to the file that defines them
   (following `pub use child::Item` re-exports in a folder's `mod.rs`). A folder's `mod.rs` is
   the facade of its children, so edges from a child to its own folder's `mod.rs` are not
   counted; everything else is.
2. No blocking call in an `async fn` of the engine: keyring and state-file calls
   (`store.get/set/delete`, `dir.load/update/save_trace/lock_session`), `std::fs::` and
   `std::thread::sleep` must sit inside a closure handed to `blocking(…)` / `spawn_blocking(…)`.
   In the desktop app (`src-tauri/src`) the same holds for the engine's file-reading calls
   (`status()`, `scan()`, `legacy_context(…)`, `timeline_for(…)`, writing a bundle or report)
   in every async fn, with `blocking::run(…)` as the way out.
3. Every Tauri command is `async` (its file work then goes to the blocking pool), or carries a
   `// sync: <why>` comment above its `#[tauri::command]`: a synchronous command runs on the
   main thread, which also paints the window and the tray.
4. The core (`src/`) returns no `Result<_, String>`: an error is a type whose variants callers
   match (a string invites matching on wording), and whose text is said in one place.

Usage: check-layers.py SRC_DIR [SRC_DIR …]  (each a crate's `src/`). Exit 1 on a finding.
"""

import re
import sys
from pathlib import Path

PATH_RE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP_RE = re.compile(r"\buse\s+(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\};", re.S)
PUB_USE_RE = re.compile(r"pub(?:\([^)]*\))?\s+use\s+([A-Za-z_][A-Za-z0-9_]*)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::(\{[^;]*\}|[A-Za-z_][A-Za-z0-9_]*)\s*;", re.S)
MOD_RE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", re.M)
PATH_ATTR_RE = re.compile(r'#\[path\s*=\s*"([^"]+)"\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;')


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def strip_tests(text):
    """Drops `#[cfg(test)] mod … { … }` blocks and `#[cfg(test)] mod x;` lines: tests may
    reach anywhere."""
    out, i = [], 0
    while True:
        m = re.search(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*([;{])", text[i:])
        if not m:
            out.append(text[i:])
            break
        start = i + m.start()
        out.append(text[i:start])
        if m.group(1) == ";":
            i = i + m.end()
            continue
        depth, j = 0, i + m.end() - 1
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        i = j + 1
    return "".join(out)


class Crate:
    def __init__(self, src):
        self.src = Path(src)
        self.modules = {}  # module path tuple -> file
        self.test_files = set()
        self._walk((), self.src / ("lib.rs" if (self.src / "lib.rs").exists() else "main.rs"))

    def _walk(self, mod_path, file):
        self.modules[mod_path] = file
        text = strip_comments(file.read_text())
        base = file.parent if file.name in ("lib.rs", "main.rs", "mod.rs") else file.parent / file.stem
        for m in PATH_ATTR_RE.finditer(text):
            self.test_files.add((file.parent / m.group(1)).resolve())
        for m in MOD_RE.finditer(strip_tests(text)):
            name = m.group(1)
            for cand in (base / f"{name}.rs", base / name / "mod.rs"):
                if cand.exists() and cand.resolve() not in self.test_files:
                    self._walk(mod_path + (name,), cand)
                    break

    def resolve(self, path):
        """The deepest module of `path` that is a file, following `pub use` re-exports."""
        for _ in range(8):
            best = ()
            for i in range(len(path), -1, -1):
                if tuple(path[:i]) in self.modules:
                    best = tuple(path[:i])
                    break
            rest = path[len(best):]
            if not rest:
                return best
            target = self._reexport(best, rest[0])
            if target is None:
                return best
            path = list(target) + list(rest[1:])
        return best

    def _reexport(self, module, name):
        text = strip_comments(self.modules[module].read_text())
        for m in PUB_USE_RE.finditer(text):
            head, mid, tail = m.group(1), m.group(2), m.group(3)
            names = [n.strip().split(" as ")[0].strip() for n in tail.strip("{}").split(",")]
            if name not in names:
                continue
            segs = [s for s in mid.split("::") if s]
            if head == "crate":
                return segs + [name]
            if head == "super":
                return list(module[:-1]) + segs + [name]
            if head == "self":
                return list(module) + segs + [name]
            return list(module) + [head] + segs + [name]
        return None

    def absolute(self, module, head, segs, file):
        if head == "crate":
            return segs
        own = list(module) if file.name == "mod.rs" or file.name == "lib.rs" else list(module)
        if head == "self":
            return own + segs
        # `super` from a file module is its parent module.
        return own[:-1] + segs

    def edges(self):
        out = {}
        for module, file in self.modules.items():
            text = strip_tests(strip_comments(file.read_text()))
            targets = set()
            paths = []
            for m in USE_GROUP_RE.finditer(text):
                prefix = [s for s in m.group(2).split("::") if s]
                for item in m.group(3).replace("\n", " ").split(","):
                    item = item.strip().split(" as ")[0].strip()
                    if not item or item.startswith("{"):
                        continue
                    item_segs = [s for s in item.split("::") if s and s != "self" and s != "*"]
                    paths.append((m.group(1), prefix + item_segs))
            for m in PATH_RE.finditer(text):
                paths.append((m.group(1), [s for s in m.group(2).split("::") if s]))
            for head, segs in paths:
                target = self.resolve(self.absolute(module, head, segs, file))
                if target == module or not target:
                    continue
                # A child naming its own folder's facade (mod.rs) is containment, not a layer.
                if self.modules[target].name == "mod.rs" and module[: len(target)] == target:
                    continue
                if module[: len(target)] == target and self.modules[target].name in ("lib.rs", "main.rs"):
                    continue
                targets.add(target)
            out[module] = targets
        return out


def cycles(graph):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return found


BLOCKING = re.compile(r"\.(store\.(get|set|delete)|dir\.(load|update|save_trace|lock_session|load_trace))\(|std::fs::|std::thread::sleep")
# The app's calls into the core that read or write files (see rule 2).
APP_BLOCKING = re.compile(r"\.status\(\)|\.scan\(\)|\blegacy_context\(|\btimeline_for\(|\bwrite_bundle\(|\breport::write\(|std::fs::|std::thread::sleep")


def is_app(src):
    return Path(src).resolve().parent.name == "src-tauri"


def blocking_in_async(src):
    findings = []
    if is_app(src):
        files, pattern = sorted(Path(src).glob("*.rs")), APP_BLOCKING
    else:
        files = sorted(Path(src, "engine").glob("*.rs")) if Path(src, "engine").is_dir() else []
        pattern = BLOCKING
    for file in files:
        if file.name.endswith("_tests.rs"):
            continue
        text = strip_tests(strip_comments(file.read_text()))
        for m in re.finditer(r"\basync\s+fn\s+(\w+)[^{;]*\{", text):
            start = m.end() - 1
            depth, j = 0, start
            while j < len(text):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            body = text[start:j]
            allowed = []
            for b in re.finditer(r"(?:\bblocking(?:::run)?|spawn_blocking)\(", body):
                d, k = 0, b.end() - 1
                while k < len(body):
                    if body[k] == "(":
                        d += 1
                    elif body[k] == ")":
                        d -= 1
                        if d == 0:
                            break
                    k += 1
                allowed.append((b.start(), k))
            for c in pattern.finditer(body):
                if not any(a <= c.start() <= b for a, b in allowed):
                    line = text[: start + c.start()].count("\n") + 1
                    findings.append(f"{file}:{line}: `{c.group(0)}` in async fn {m.group(1)} outside blocking(…)")
    return findings


def sync_commands(src):
    """Rule 3: `#[tauri::command]` on a non-async fn needs a `// sync: why` line above it."""
    findings = []
    for file in sorted(Path(src).rglob("*.rs")):
        lines = file.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.strip() != "#[tauri::command]":
                continue
            sig = next((l for l in lines[i + 1 : i + 6] if re.search(r"\bfn\s", l)), "")
            if re.search(r"\basync\s+fn\b", sig):
                continue
            above = lines[max(0, i - 6) : i]
            if not any(l.strip().startswith("// sync:") for l in above):
                findings.append(f"{file}:{i + 1}: synchronous Tauri command without `// sync: <why>`: {sig.strip()}")
    return findings


STRING_ERROR_RE = re.compile(r"Result<[^;{}]*?,\s*String\s*>")


def string_errors(src):
    """Rule 4, for the core only: no `Result<_, String>` outside tests."""
    if Path(src).resolve() != (Path(__file__).resolve().parent.parent / "src").resolve():
        return []
    findings = []
    for file in sorted(Path(src).rglob("*.rs")):
        if file.name in ("tests.rs",) or file.name.endswith("_tests.rs") or "tests" in file.parts:
            continue
        text = strip_tests(strip_comments(file.read_text()))
        for m in STRING_ERROR_RE.finditer(text):
            line = text[: m.start()].count("\n") + 1
            findings.append(f"{file}:~{line}: `{m.group(0)}`: give the error a type")
    return findings


def main():
    failed = False
    for src in sys.argv[1:]:
        crate = Crate(src)
        graph = crate.edges()
        for comp in cycles(graph):
            failed = True
            names = " ↔ ".join("::".join(m) or "crate" for m in sorted(comp))
            print(f"import cycle in {src}: {names}")
            members = set(comp)
            for a in sorted(comp):
                for b in sorted(graph.get(a, ()) & members):
                    print(f"    {'::'.join(a) or 'crate'} uses {'::'.join(b) or 'crate'}")
        for f in blocking_in_async(src):
            failed = True
            print(f"blocking call: {f}")
        for f in sync_commands(src):
            failed = True
            print(f"main thread: {f}")
        for f in string_errors(src):
            failed = True
            print(f"string error: {f}")
        print(f"{src}: {len(crate.modules)} modules, {sum(len(v) for v in graph.values())} edges checked")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
