#!/usr/bin/env bash
# `make bench`: the fan-out benchmark (release build, real lab, real keyring), written into
# docs/benchmarks.md with the machine it ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> cargo bench --bench fanout (release)"
table=$(bash scripts/with-keyring.sh cargo bench --quiet --bench fanout 2>/dev/null | grep '^|')
echo "$table"
python3 - "$table" <<'PY'
import re, sys, datetime, platform, os
table = sys.argv[1]
path = "docs/benchmarks.md"
text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
section = (
    "## Connector fan-out\n\n"
    f"Measured {datetime.date.today()} on {os.cpu_count()} cores ({platform.machine()}), lab latency 25 ms per response, "
    "medians; every column measured in the same run.\n\n" + table + "\n"
)
text = re.sub(r"## Connector fan-out\n.*?(?=\n## |\Z)", lambda m: section, text, flags=re.S) if "## Connector fan-out" in text else text.rstrip() + "\n\n" + section
open(path, "w").write(text)
PY
echo "==> docs/benchmarks.md updated"

echo "==> app footprint: idle CPU, PSS, sizes against a minimal Tauri app (scripts/bench-app.sh)"
bash scripts/bench-app.sh
python3 - <<'PY'
import re
path, app = "docs/benchmarks.md", open("docs/benchmarks-app.md").read().strip()
text = open(path).read()
if "## Desktop app footprint" in text:
    text = re.sub(r"## Desktop app footprint\n.*?(?=\n## |\Z)", lambda m: app + "\n", text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + app + "\n"
open(path, "w").write(text)
PY
echo "==> docs/benchmarks.md updated (fan-out and app footprint)"
