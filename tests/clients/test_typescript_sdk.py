"""The committed TypeScript SDK is what @hey-api/openapi-ts makes from the committed openapi.json, and
it type-checks (``tsc --noEmit``) together with the hand-written realtime helper."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

from tests.support.typescript import installed, node, npm


def _differences(left: Path, right: Path) -> list[str]:
    found: list[str] = []

    def walk(cmp: filecmp.dircmp, prefix: str) -> None:
        found.extend(f"{prefix}{name}" for name in cmp.left_only + cmp.right_only + cmp.diff_files)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(left, right), "")
    return found


def test_the_committed_sdk_is_what_the_generator_makes_from_the_committed_spec(tmp_path):
    sdk = installed()
    fresh = tmp_path / "gen"
    node(f"""
        import config from './openapi-ts.config.mjs';
        import {{ createClient }} from '@hey-api/openapi-ts';
        await createClient({{ ...config, logs: {{ level: 'silent' }},
                              output: {{ ...config.output, path: {json.dumps(str(fresh))} }} }});
    """, cwd=sdk)
    assert (fresh / "sdk.gen.ts").exists()
    assert _differences(sdk / "src" / "gen", fresh) == [], "stale SDK: run `make sdk` and commit src/gen"


def test_the_sdk_type_checks():
    npm("run", "--silent", "typecheck", cwd=installed())


def test_operation_ids_name_the_sdk_functions():
    text = (installed() / "src" / "gen" / "sdk.gen.ts").read_text()
    for name in ("skillsList", "skillsCreate", "authLogin", "authRegister", "syncGet", "realtimeTicket",
                 "avatarUpload"):
        assert f"export const {name} = " in text
