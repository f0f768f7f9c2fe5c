"""Copy bench/results.md into README.md between the results markers, so no figure is typed by hand."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench-results:start -->", "<!-- bench-results:end -->"


def render(results: str) -> str:
    body = results.split("\n", 1)[1].strip() if results.startswith("# ") else results.strip()
    body = ("\n" + body).replace("\n## ", "\n#### ").strip()  # README sections sit under "## Results"
    return f"{START}\n<!-- generated from bench/results.md by bench/update_readme.py: do not edit -->\n{body}\n{END}"


def update_readme(readme: Path = ROOT / "README.md", results: Path = ROOT / "bench" / "results.md") -> None:
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{readme} lacks the {START} ... {END} markers")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(head + render(results.read_text()) + tail)


if __name__ == "__main__":
    update_readme()
