// Compile the .py files of zip archives to .pyc with the site's own Pyodide, in Node.js.
//
//   node scripts/compile_pyc.mjs INDEX_URL SITE_DIR|- IN.zip OUT.zip PREFIX [IN.zip OUT.zip PREFIX ...]
//
// Run by scripts/compile_pyc.py (see there for why). INDEX_URL is a folder holding pyodide.mjs;
// each .py entry of IN.zip is written to OUT.zip as a sourceless .pyc (an unchecked hash-based
// pyc, so no source is needed or consulted), compiled by the very interpreter the page runs,
// with PREFIX + its name as the file name tracebacks show. Other entries are copied as they are,
// and a file that does not compile keeps its source.
//
//   node scripts/compile_pyc.mjs INDEX_URL --files LIST.json OUT.zip
//
// The second form compiles single files into one new stored zip: LIST.json is [[source path, name], ...],
// and each becomes the entry name[:-3] + ".pyc", compiled as /home/pyodide/ + name (where the page's
// worker unpacks the zip, so tracebacks name the file). scripts/site_python.py uses it for the site's own
// modules.
//
// With a SITE_DIR (a built site), only the modules the page imports are compiled: its [files] are
// written into Pyodide's file system the way web/compute.js writes them, NumPy is loaded, web/main.py
// is imported (the page's messages go nowhere) and the model reads one drawn digit; what sys.modules then
// holds from these archives is compiled, and every other file keeps its source, which compresses
// to about half of its bytecode.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [indexURL, siteDir, ...rest] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(path.join(indexURL, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: path.resolve(indexURL) + "/" });

/** The files the page's start-up and first reading import (their paths in Pyodide), or null for all. */
async function startupFiles() {
  if (siteDir === "-") return null;
  // pyscript.toml's [files], read by the page's own reader (a classic script that sets self.filesFromToml)
  globalThis.self ??= globalThis;
  await import(pathToFileURL(path.join(siteDir, "web/toml_files.js")).href);
  const files = self.filesFromToml(fs.readFileSync(path.join(siteDir, "pyscript.toml"), "utf8"));
  const home = "/home/pyodide/";
  for (const [src, dst] of files) {
    const to = home + dst.replace(/^\.\//, "");
    pyodide.FS.mkdirTree(to.slice(0, to.lastIndexOf("/")));
    pyodide.FS.writeFile(to, fs.readFileSync(path.join(siteDir, src)));
  }
  await pyodide.loadPackage("numpy", { messageCallback: () => {}, checkIntegrity: false });
  globalThis.digitsHost = {  // as web/compute.js sets it; the page's operations (web/ui.py) go nowhere here
    postMessage: () => {},
    setTimeout: (fn, ms, ...args) => setTimeout(fn, ms, ...args),
    clearTimeout: (id) => clearTimeout(id),
    now: () => performance.now(),
  };
  globalThis.digitsMark = () => {};
  pyodide.FS.chdir(home);
  pyodide.runPython(`import sys; sys.path.insert(0, ${JSON.stringify(home)})`);
  pyodide.runPython("import main");  // as web/compute.js does
  return pyodide.runPython(`
import numpy as np
gray = np.zeros((80, 60), np.uint8)
gray[15:65, 28:34] = 255  # a 1
import engine, main
reading = engine.read_number(main.app.model, gray)
main.app.model.predict_proba(engine.preprocess(gray))
sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""})
`).toJs();
}
const wanted = siteDir === "--files" ? null : await startupFiles();


pyodide.runPython(`
import ast, importlib.util, marshal, zipfile

def pyc_of(source, filename, tree=None):
    """A sourceless .pyc of source (compiled from tree when given): hash-based, the source never checked
    (PEP 552). Raises SyntaxError."""
    code = compile(source if tree is None else tree, filename, "exec", dont_inherit=True)
    flags = (1).to_bytes(4, "little")
    return importlib.util.MAGIC_NUMBER + flags + importlib.util.source_hash(source) + marshal.dumps(code)

def without_docstrings(source, filename):
    """The module's syntax tree without the docstrings of the module, its classes and functions (the
    site's code never reads __doc__): a third less bytecode. Every other line keeps its number."""
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.copy_location(ast.Pass(), first)]
    return tree

def files_to_pyc(pairs, dst):
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for src, name in pairs:
            with open(src, "rb") as f:
                source = f.read()
            filename = "/home/pyodide/" + name
            data = pyc_of(source, filename, without_docstrings(source, filename))
            zout.writestr(zipfile.ZipInfo(name[:-3] + ".pyc", (1980, 1, 1, 0, 0, 0)), data)
    return f"{len(pairs)} compiled, 0 did not compile"

def to_pyc(src, dst, prefix, wanted):
    compiled = kept = 0
    wanted = None if wanted is None else set(wanted)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".py") and (wanted is None or prefix + info.filename in wanted):
                try:
                    data = pyc_of(data, prefix + info.filename)
                except SyntaxError:
                    kept += 1
                else:
                    info = zipfile.ZipInfo(info.filename + "c", info.date_time)
                    compiled += 1
            info.compress_type = zipfile.ZIP_STORED
            zout.writestr(info, data)
    return f"{compiled} compiled, {kept} did not compile"
`);
if (siteDir === "--files") {
  const [list, dst] = rest;
  const pairs = JSON.parse(fs.readFileSync(list, "utf8"));
  pyodide.FS.mkdirTree("/tmp/files");
  const inFs = pairs.map(([src, name], i) => {
    pyodide.FS.writeFile(`/tmp/files/${i}.py`, fs.readFileSync(src));
    return [`/tmp/files/${i}.py`, name];
  });
  const said = pyodide.globals.get("files_to_pyc")(pyodide.toPy(inFs), "/tmp/out.zip");
  fs.writeFileSync(dst, pyodide.FS.readFile("/tmp/out.zip"));
  console.log(`${path.basename(dst)}: ${said}`);
  process.exit(0);
}
const toPyc = pyodide.globals.get("to_pyc");
for (let i = 0; i + 2 < rest.length; i += 3) {
  const [src, dst, prefix] = rest.slice(i, i + 3);
  pyodide.FS.writeFile("/tmp/in.zip", fs.readFileSync(src));
  const said = toPyc("/tmp/in.zip", "/tmp/out.zip", prefix, wanted ? pyodide.toPy(wanted.filter((f) => f.startsWith(prefix))) : null);
  fs.writeFileSync(dst, pyodide.FS.readFile("/tmp/out.zip"));
  console.log(`${path.basename(src)}: ${said}`);
}
