"""README.md is a landing page (issue 18): short, the two commands first, and every link into
docs/ (and between the pages there) leads to a file that exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def test_readme_is_a_landing_page_under_25_kb():
    readme = (ROOT / "README.md").read_bytes()
    assert len(readme) < 25_000, f"README.md is {len(readme)} bytes: move reference material into docs/"


def test_readme_opens_with_the_two_commands():
    opening = (ROOT / "README.md").read_text().split("\n## ", 1)[0]
    assert "```sh\nmake synth " in opening and "\nmake test " in opening


def test_relative_links_of_the_readme_and_docs_lead_to_files():
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target, _ in LINK.findall(page.read_text()):
            if re.match(r"^[a-z]+:", target):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []
