"""MindSpore's persistent compile cache, used only where it is provably the same computation.

MindSpore 2.10 (`enable_compile_cache`) stores a process's graphs by the order
they were compiled (compile_cache_0.mindir, _1, ...) and checks nothing but
the hash of the entry script's imports.  Measured here:
- a glass run with seed 44 in the folder of a seed-43 run loaded the seed-43
  graphs and scored wrong numbers (a graph can hold constants of the run
  that compiled it);
- a cardio run in the folder of a glass run crashed in a copy kernel;
- weights and inputs stay live: the same graphs trained on other data gave
  the uncached scores bit for bit.
So every process gets a folder of its own, named by a key that fixes which
graphs it compiles, in which order, and with which constants: the code, the
MindSpore version, the command, every setting (seed included) and the data
shapes.  The path can be set once per process, before the first compile.

A folder is filled under a private staging name and renamed into place only
when its command succeeds, so an interrupted or failed run never leaves a
partial cache that a later run would load.  The oldest folders beyond
MAX_ENTRIES are removed.  Delete the cache root to clear it.
"""
import glob
import hashlib
import json
import os
import shutil
import time

import mindspore as ms

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DIR = "./.compile_cache/"  # beside weights/ and results/ of the working folder
_claimed = False            # the first CompileCache of a process decides for the whole process
MAX_ENTRIES = 256           # about 0.1-1 MB each
STALE_STAGING_S = 24 * 3600  # a staging folder this old belongs to a process that died


def source_files(extra_patterns=()):
    """The Python files whose code can reach a compiled graph."""
    patterns = ("*.py", "models/**/*.py", *extra_patterns)
    files = {path for pattern in patterns
             for path in glob.glob(os.path.join(ROOT, pattern), recursive=True)}
    return sorted(files)


def cache_key(parts, extra_patterns=()):
    """A short digest of `parts` (JSON-able), the source files and the MindSpore version."""
    digest = hashlib.sha256()
    for path in source_files(extra_patterns):
        digest.update(os.path.relpath(path, ROOT).encode())
        with open(path, "rb") as handle:
            digest.update(hashlib.sha256(handle.read()).digest())
    digest.update(json.dumps({"mindspore": ms.__version__, **parts}, sort_keys=True,
                             default=str).encode())
    return digest.hexdigest()[:24]


def file_digest(path, block=1 << 20):
    """SHA-256 of a file's bytes (an input's rows decide the shapes that are scored)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for piece in iter(lambda: handle.read(block), b""):
            digest.update(piece)
    return digest.hexdigest()


def network_shapes(cell):
    """Every parameter's name and shape: the counts a saved model brings to its scoring
    graph (features, layers, members, kept snapshot epochs), none of which its settings
    alone fix (a model keeps fewer epochs than select_top_k when fewer were trained)."""
    return [[param.name, list(param.shape)] for param in cell.get_parameters()]


class CompileCache:
    """`with CompileCache(root, parts):` runs its body with the cache of `parts`.

    root None turns the cache off.  A body that raises discards what it compiled.
    Only the first CompileCache of a process can be on: MindSpore numbers the
    graphs of the whole process, so a cache opened after other compiles (a
    command called from a test, say) would file its graphs under wrong numbers.
    """

    def __init__(self, root, parts, extra_patterns=()):
        global _claimed
        if _claimed:
            root = None
        _claimed = True
        self.root = None if root is None else os.path.abspath(root)
        self.key = cache_key(parts, extra_patterns)
        self.staging = None
        self.hit = False

    @property
    def folder(self):
        return os.path.join(self.root, self.key)

    def describe(self):
        if self.root is None:
            return "compile cache: off"
        return f"compile cache: {'reusing' if self.hit else 'filling'} {self.folder}"

    def __enter__(self):
        if self.root is None:
            return self
        os.makedirs(self.root, exist_ok=True)
        self.hit = os.path.isdir(self.folder)
        if self.hit:
            os.utime(self.folder)  # recently used: kept by the pruning
            path = self.folder
        else:
            self.staging = os.path.join(self.root, f".{self.key}.{os.getpid()}.staging")
            shutil.rmtree(self.staging, ignore_errors=True)
            path = self.staging
        ms.set_context(enable_compile_cache=True, compile_cache_path=path)
        return self

    def __exit__(self, exc_type, exc, traceback):
        self.finish(exc_type is None)
        return False

    def finish(self, succeeded):
        """Keep the staged graphs when `succeeded`, else drop them; prune old folders."""
        if self.root is None:
            return
        # Later graphs of this process (none in the commands) must not land in a moved folder.
        ms.set_context(enable_compile_cache=False)
        if self.staging is not None:
            if succeeded and os.path.isdir(self.staging):
                try:
                    os.rename(self.staging, self.folder)
                except OSError:  # another process finished the same key first
                    pass
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        prune(self.root)


def prune(root, keep=MAX_ENTRIES):
    """Remove the least recently used folders beyond `keep` and dead staging folders."""
    now = time.time()
    entries = []
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if not os.path.isdir(path):
            continue
        if name.endswith(".staging"):
            if now - os.path.getmtime(path) > STALE_STAGING_S:
                shutil.rmtree(path, ignore_errors=True)
            continue
        entries.append((os.path.getmtime(path), path))
    for _, path in sorted(entries, reverse=True)[keep:]:
        shutil.rmtree(path, ignore_errors=True)
