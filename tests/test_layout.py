"""The layered layout: old flat module paths still import (with a warning), and the package's
public names resolve lazily to the same objects."""

import importlib
import subprocess
import sys
import warnings

import pytest

import pymc_bnn
from pymc_bnn._runtime.moved import MOVED, new_path


@pytest.mark.filterwarnings("default")
@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_module_path_imports_with_a_deprecation_warning(old):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    new = importlib.import_module(MOVED[old])
    assert [w.category for w in caught if old in str(w.message)] == [DeprecationWarning]
    assert f"moved to {MOVED[old]}" in str(caught[-1].message)
    public = [name for name in dir(new) if not name.startswith("__")]
    assert public and all(getattr(module, name) is getattr(new, name) for name in public)


@pytest.mark.filterwarnings("default")
def test_old_submodule_paths_and_from_imports_still_work():
    from pymc_bnn.model.priors.scale import NormalPrior as new_normal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pymc_bnn.plots import probability_map
        from pymc_bnn.priors.scale import NormalPrior
    assert NormalPrior is new_normal
    assert probability_map is importlib.import_module("pymc_bnn.reporting.plots").probability_map
    assert new_path("pymc_bnn.priors.informed") == "pymc_bnn.model.priors.informed"
    assert new_path("pymc_bnn.inference.vi") is None
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("pymc_bnn.priors.no_such_module")


@pytest.mark.parametrize("old, names, home", [
    ("pymc_bnn.validation", ("check_labels", "encode_class_labels", "check_count_target",
                             "MAX_COUNT"), "pymc_bnn.label_checks"),
    ("pymc_bnn.validation", ("check_features", "refuse_datetimes", "check_column_names"),
     "pymc_bnn.feature_checks"),
    ("pymc_bnn.inference.ggn", ("output_loglik", "RowLoglik", "output_curvature_roots"),
     "pymc_bnn.inference.output_likelihood"),
    ("pymc_bnn.inference.ggn", ("network_shapes", "output_jacobian", "expansion_point_group"),
     "pymc_bnn.inference.flat_network"),
    ("pymc_bnn.inference.ggn", ("uses_full_hessian", "curvatures_at", "spectra_at"),
     "pymc_bnn.inference.ggn_at_maps"),
    ("pymc_bnn.inference.laplace", ("ParameterLayout",), "pymc_bnn.inference.laplace_layout"),
    ("pymc_bnn.model.likelihoods", ("OBSERVED", "array_namespace", "observe_rows"),
     "pymc_bnn.model.likelihood_protocol"),
    ("pymc_bnn.model.likelihoods", ("OFFSET", "standardise_target"),
     "pymc_bnn.model.regression_likelihoods"),
    ("pymc_bnn.posterior.compiled", ("shared_blocks",), "pymc_bnn.posterior.draw_layout"),
    ("pymc_bnn.posterior.compiled", ("LOCATION_SCALE",), "pymc_bnn.posterior.predictive_means"),
    ("pymc_bnn.posterior.compiled", ("devices",), "pymc_bnn.posterior.device_chunks"),
    ("pymc_bnn.model.network", ("ACTIVATIONS",), "pymc_bnn.model.activations"),
    ("pymc_bnn.model.network", ("uses_draws_last", "forward_over_draws", "forward_shared_hidden",
                                "forward_linearised", "forward_draws_last"),
     "pymc_bnn.model.batched_forward"),
    ("pymc_bnn.inference.jax_model", ("constrained_draws", "to_idata"),
     "pymc_bnn.inference.compiled_draws"),
    ("pymc_bnn.io.model_file", ("read_description", "read_summary", "decode",
                                "decode_with_description"), "pymc_bnn.io.model_file_reader"),
    ("pymc_bnn.cli.model_commands", ("_refuse_role_clashes", "_name_columns", "_show_warnings",
                                     "_cmd_fit", "_ending", "_absolute", "_refuse_unnamed_columns",
                                     "_fit_streamed", "_fit_summary", "_show_convergence"),
     "pymc_bnn.cli.fit_command"),
    ("pymc_bnn.cli.model_commands", ("_cmd_report", "_scored_target", "_drop_unseen_labels"),
     "pymc_bnn.cli.report_command"),
])
def test_names_moved_out_of_a_split_module_still_import_with_a_warning(old, names, home):
    """validation.py (twice: label_checks, then feature_checks), inference/ggn.py (twice:
    output_likelihood, then flat_network and ggn_at_maps), inference/laplace.py,
    model/likelihoods.py, model/network.py, inference/jax_model.py, io/model_file.py,
    posterior/compiled.py and cli/model_commands.py were split this release:
    `from pymc_bnn.inference.ggn import output_loglik` raised ImportError until the ggn split
    forwarded its moved names."""
    module, new = importlib.import_module(old), importlib.import_module(home)
    for name in names:
        with pytest.warns(DeprecationWarning, match=f"{old}.{name} moved to {home}.{name}"):
            assert getattr(module, name) is getattr(new, name)


def test_every_public_name_of_the_package_resolves():
    for name in pymc_bnn.__all__:
        assert getattr(pymc_bnn, name) is not None, name
    assert pymc_bnn.Posterior is importlib.import_module("pymc_bnn.posterior.posterior").Posterior
    assert pymc_bnn.build_model is importlib.import_module("pymc_bnn.model.build").build_model
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        pymc_bnn.nothing  # noqa: B018


def test_importing_the_package_loads_no_model_code():
    code = ("import sys, pymc_bnn; "
            "print(sorted(m for m in sys.modules if m.startswith(('pymc', 'jax'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert eval(out) == ["pymc_bnn", "pymc_bnn._runtime", "pymc_bnn._runtime.moved",
                         "pymc_bnn.errors"]


def _readme_layout_tree() -> dict[str, str]:
    """The README's Layout tree: each top-level folder or file line → the text that describes it."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    tree = section.split("src/pymc_bnn/\n", 1)[1].split("```", 1)[0]
    entries: dict[str, str] = {}
    name = None
    for line in tree.splitlines():
        if line.startswith("  ") and not line.startswith("   "):  # a new entry
            name = line.split()[0].rstrip(",")
            entries[name] = line
        elif name is not None:
            entries[name] += " " + line.strip()
    return entries


def test_the_readme_layout_names_every_subpackage_and_module():
    from pathlib import Path

    src = Path(pymc_bnn.__file__).parent
    tree = _readme_layout_tree()
    text = " ".join(tree.values())
    for folder in sorted(p for p in src.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        assert f"{folder.name}/" in tree, f"README Layout: no line for {folder.name}/"
        for module in sorted(folder.glob("*.py")):
            if module.stem not in ("__init__", "__main__"):
                assert module.stem in tree[f"{folder.name}/"].split("/", 1)[1], \
                    f"README Layout: {folder.name}/ does not name {module.stem}"
    for module in sorted(src.glob("*.py")):
        if module.stem not in ("__init__", "__main__"):
            assert f"{module.stem}.py" in text, f"README Layout: {module.name} is not named"


def test_the_api_reference_lists_every_public_module():
    """The same rule as the docs build's test (tests/acceptance/test_docs.py), without a build."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    listed = (root / "docs" / "api" / "index.rst").read_text(encoding="utf-8").split()
    src = root / "src" / "pymc_bnn"
    for path in sorted(src.rglob("*.py")):
        parts = ("pymc_bnn", *path.relative_to(src).with_suffix("").parts)
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if path.name != "conftest.py" and not any(p.startswith("_") for p in parts):
            assert ".".join(parts) in listed, f"{'.'.join(parts)} is missing from docs/api/index.rst"


def test_no_module_imports_another_modules_private_names():
    """STYLE.md: a helper two modules share gets a public name in the module that owns it.
    The CLI's modules took `_note`, `_load_model`, `_read_data`, … from each other."""
    import ast
    from pathlib import Path

    src = Path(pymc_bnn.__file__).parent
    found = []
    for path in sorted(src.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pymc_bnn"):
                found += [f"{path.relative_to(src)}:{node.lineno} {node.module}.{alias.name}"
                          for alias in node.names
                          if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert found == [], "\n".join(found)
