"""The import graph of the cnnlab package, read from the source with ast (nothing is imported).

An edge A -> B means: importing module A runs module B's code at A's import time, because A imports B at module
level (in the module body, a class body, an `if` or a `try` block, anywhere but inside a function). Relative
imports are resolved, and `from . import x` is an edge to the submodule x when x is one. Importing `a.b.c` also
runs the packages `a.b` and `a` first: those package edges are in the graph too, except for the importer's own
ancestors (a package importing its children is the normal way a package is built; a child that imports its
package back, `from .. import name` for a name the package __init__ defines, is an edge and shows as a cycle).

Run `python tests/import_graph.py` to print the cycles and the function-level imports.
"""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "cnnlab"


def module_files(root=ROOT):
    """{dotted module name: path} for every .py file under the package."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_package(name, modules):
    return modules[name].name == "__init__.py"


def _resolve_base(node, importer, modules):
    """The absolute module name that `from <base> import ...` names."""
    if node.level == 0:
        return node.module
    package = importer if _is_package(importer, modules) else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _targets(node, importer, modules):
    """The package's modules one import statement names directly."""
    package = importer.partition(".")[0]
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = _resolve_base(node, importer, modules)
        names = []
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            names.append(sub if sub in modules else base)
    return [name for name in names if name == package or name.startswith(package + ".")]


def _walk_imports(tree):
    """Yield (import node, enclosing function's qualified name or None) for every import in the tree."""
    def visit(node, scope, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, (scope if in_function else None)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from visit(child, f"{scope}.{child.name}".lstrip("."), True)
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, f"{scope}.{child.name}".lstrip("."), in_function)
            elif isinstance(child, ast.Lambda):
                yield from visit(child, f"{scope}.<lambda>".lstrip("."), True)
            else:
                yield from visit(child, scope, in_function)
    yield from visit(tree, "", False)


def _ancestors(name):
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def analyse(root=ROOT):
    """Return (graph, function_imports).

    graph: {module: set of modules it runs at import time}.
    function_imports: sorted list of (module, function, imported module) for imports of the package's modules
    inside functions (one entry per distinct triple).
    """
    modules = module_files(root)
    graph = {name: set() for name in modules}
    function_imports = set()
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        own_ancestors = _ancestors(name)
        for node, function in _walk_imports(tree):
            for target in _targets(node, name, modules):
                if function is not None:
                    function_imports.add((name, function, target))
                    continue
                implicit = _ancestors(target) - own_ancestors  # the packages Python runs before the target
                for needed in implicit | {target}:
                    if needed in modules and needed != name:
                        graph[name].add(needed)
    return graph, sorted(function_imports)


def cycles(graph):
    """The strongly connected components with more than one module (or a self-loop), each as one cycle path."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = [0]

    def strongconnect(v):  # Tarjan, iterative so that a deep graph cannot hit the recursion limit
        work = [(v, iter(sorted(graph[v])))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.add(w)
                        if w == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        components.append(component)

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return [_one_cycle(graph, component) for component in components]


def _one_cycle(graph, component):
    """A shortest cycle through the component's first module, as a list of modules (first repeated at the end)."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return [start]


def component_members(graph):
    """All modules that sit on some cycle."""
    members = set()
    for cycle in cycles(graph):
        members.update(cycle)
    return members


if __name__ == "__main__":
    graph, function_imports = analyse()
    found = cycles(graph)
    print(f"{sum(len(v) for v in graph.values())} module-level edges between {len(graph)} modules")
    print(f"{len(found)} cycle(s):")
    for cycle in found:
        print("  " + " -> ".join(cycle))
    print(f"{len(function_imports)} imports of cnnlab modules inside functions:")
    for entry in function_imports:
        print("  ", entry)
