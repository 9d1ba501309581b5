"""The two READMEs cannot drift apart, their tree and tables match the repository, and
neither they nor docs/ name a file that is not there.  Generated blocks are checked
where they live: the results table in both READMEs, the tuning tables in
docs/model_selection.md (the parity table: tests/test_parity.py, docs/parity.md)."""
import os
import re
import sys

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import compare  # noqa: E402

READMES = ("README.md", "README_CN.md")
DOCS = sorted(os.path.join("docs", name) for name in os.listdir(os.path.join(ROOT, "docs"))
              if name.endswith(".md"))


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        return handle.read()


def outside_code(text):
    """The lines of a Markdown text that are not inside ``` fences."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def heading_levels(text):
    return [len(line) - len(line.lstrip("#")) for line in outside_code(text)
            if line.startswith("#")]


def code_blocks(text):
    return re.findall(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M)


def generated_block(text, name=compare.README_BLOCK):
    match = re.search(re.escape(f"<!-- {name}:begin -->") + r"\n(.*?)\n" +
                      re.escape(f"<!-- {name}:end -->"), text, re.S)
    assert match, f"no generated {name} block"
    return match.group(1)


def block_names(text):
    return re.findall(r"^<!-- ([\w-]+):begin -->$", text, re.M)


def test_both_readmes_have_the_same_sections():
    english, chinese = (read(name) for name in READMES)
    assert heading_levels(english) == heading_levels(chinese)
    assert len(heading_levels(english)) > 20


def test_both_readmes_carry_the_same_generated_blocks():
    english, chinese = (read(name) for name in READMES)
    assert block_names(english) == block_names(chinese) == [compare.README_BLOCK]
    assert generated_block(english) == generated_block(chinese)


def test_the_readme_is_a_user_guide_that_links_every_doc():
    english = read("README.md")
    assert len(english.splitlines()) <= 450
    for name in READMES:
        for doc in DOCS:
            assert f"]({doc})" in read(name), f"{name} does not link {doc}"


# a path in backquotes (its first part a folder of the repository) or a Markdown link target
FOLDERS = r"(?:configs|models|scripts|tests|results|weights|data|docs|\.ci)"
PATH = re.compile(r"`\.?/?(" + FOLDERS + r"/[^`\s]*)`|\]\(([^)#\s]+)\)")
PLACEHOLDERS = re.compile(r"DATASET|NAME|MODEL|mine|\.\.\.")


def named_paths(text):
    """(path, is a link) for every repository path a Markdown text names; links are
    relative to the text's folder, backquoted paths to the repository."""
    for match in PATH.finditer(text):
        path, link = match.group(1) or match.group(2), match.group(2) is not None
        if link and path.startswith(("http:", "https:")):
            continue
        if not PLACEHOLDERS.search(path):
            yield path, link


def test_every_path_the_readmes_and_docs_name_exists():
    for name in READMES + tuple(DOCS):
        folder = os.path.dirname(os.path.join(ROOT, name))
        for path, link in named_paths(read(name)):
            where = os.path.join(folder if link else ROOT, path)
            assert os.path.exists(where), f"{name} names {path}, which is not there"


def test_design_references_point_at_sections_of_docs_design_md():
    cited = re.compile(r"docs/design\.md section (\d+)")
    sections = set(re.findall(r"^## (\d+)\. ", read(os.path.join("docs", "design.md")), re.M))
    for dirpath, dirnames, files in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in
                       ("data", "weights", "weights_seeds", "log", "results")]
        for file in files:
            if file.endswith((".py", ".md", ".sh", ".yaml", ".toml")):
                with open(os.path.join(dirpath, file), encoding="utf-8") as handle:
                    text = handle.read()
                where = os.path.relpath(os.path.join(dirpath, file), ROOT)
                assert "DESIGN" + ".md" not in text, f"{where} cites a file not in the repository"
                assert set(cited.findall(text)) <= sections, where


def test_both_readmes_carry_the_table_that_compare_py_writes_now():
    results = os.path.join(ROOT, "results")
    found = compare.collect([os.path.join(results, compare.RUNS_FILE),
                             os.path.join(results, "baselines.csv")])
    datasets = [d for d in compare.ODDS_DATASETS if d in found[compare.OURS]]
    detectors = [cls.label for cls in compare.DETECTORS.values() if cls.label != compare.OURS]
    table = compare.readme_table(found, datasets, detectors)
    for name in READMES:
        assert generated_block(read(name)) == table, f"{name}: run scripts/compare.py"


def test_the_model_selection_doc_carries_the_tables_that_tune_py_compare_writes_now():
    import tune
    tables = {tune.RULES_BLOCK: tune.rule_table(tune.typed_rows(tune.SELECTION_TABLE)),
              tune.DEFAULT_BLOCK: tune.default_choice(tune.typed_rows(tune.TUNING_TABLE))}
    assert tune.DOCS == [os.path.join(ROOT, "docs", "model_selection.md")]
    for name in tune.DOCS:
        for block, table in tables.items():
            assert generated_block(read(name), block) == table, \
                f"{name}: run scripts/tune.py compare"


def test_the_readme_tree_names_every_module_and_script_and_nothing_else():
    tree = next(block for block in code_blocks(read("README.md")) if "├── models" in block)
    named = set(re.findall(r"[\w-]+\.(?:py|sh|yaml)", tree))
    shipped = set()
    for folder in ("models", "scripts"):
        for _, _, files in os.walk(os.path.join(ROOT, folder)):
            shipped |= {f for f in files if f.endswith((".py", ".sh"))}
    top_level = {f for f in os.listdir(ROOT) if f.endswith(".py")}
    assert shipped | top_level <= named, sorted((shipped | top_level) - named)
    everything = set()
    for dirpath, _, files in os.walk(ROOT):
        if ".venv" not in dirpath and ".git" not in dirpath:
            everything |= set(files)
    assert named <= everything, sorted(named - everything)
    chinese_tree = next(b for b in code_blocks(read("README_CN.md")) if "├── models" in b)
    assert set(re.findall(r"[\w-]+\.(?:py|sh|yaml)", chinese_tree)) == named
