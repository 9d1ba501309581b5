"""The two READMEs cannot drift apart, and their tree and tables match the repository."""
import os
import re
import sys

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import compare  # noqa: E402

READMES = ("README.md", "README_CN.md")


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


def test_both_readmes_have_the_same_sections():
    english, chinese = (read(name) for name in READMES)
    assert heading_levels(english) == heading_levels(chinese)
    assert len(heading_levels(english)) > 20


def test_both_readmes_carry_the_table_that_compare_py_writes_now():
    results = os.path.join(ROOT, "results")
    found = compare.collect([os.path.join(results, compare.RUNS_FILE),
                             os.path.join(results, "baselines.csv")])
    datasets = [d for d in compare.ODDS_DATASETS if d in found[compare.OURS]]
    detectors = [cls.label for cls in compare.DETECTORS.values() if cls.label != compare.OURS]
    table = compare.readme_table(found, datasets, detectors)
    for name in READMES:
        assert generated_block(read(name)) == table, f"{name}: run scripts/compare.py"


def test_both_readmes_carry_the_tables_that_tune_py_compare_writes_now():
    import tune
    tables = {tune.RULES_BLOCK: tune.rule_table(tune.typed_rows(tune.SELECTION_TABLE)),
              tune.DEFAULT_BLOCK: tune.default_choice(tune.typed_rows(tune.TUNING_TABLE))}
    for name in READMES:
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
