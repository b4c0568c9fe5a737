"""Sphinx configuration of the pymc-bnn documentation (build: see the README, "Documentation").

Offline by design: no intersphinx inventories and no downloads, so a clean checkout builds with
only the packages of the `docs` dependency group. The gallery's notebooks run at build time.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the source tree, also when the package is not installed
# The gallery's notebooks run the scripts in examples/ (their kernels inherit this variable).
os.environ.setdefault("PYMC_BNN_EXAMPLES", str(ROOT / "examples"))

project = "pymc-bnn"
author = "the pymc-bnn developers"
copyright = "the pymc-bnn developers"  # noqa: A001 (Sphinx's name)

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

# intersphinx would download the inventories of PyMC, NumPy ... at every build; the build must
# work offline, so it is not used (external names stay plain text).

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
# MyST-NB writes jupyter_execute/ and .jupyter_cache/ next to the output folder: build into
# docs/_build/html (the README's command) so they land in docs/_build, never among the sources.
exclude_patterns = ["_build", "jupyter_execute", ".jupyter_cache", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]

# Every cross-reference must resolve, except to what this site does not document: private base
# classes (shown by show-inheritance), other packages' classes (no intersphinx, see above), and
# the type `string` in argparse's own docstring of ArgumentParser.error, inherited by cli.args.
nitpicky = True
nitpick_ignore_regex = [
    ("py:class", r"pymc_bnn\..*\._\w+"),
    ("py:class", r"(sklearn|argparse|numpy|xarray|pymc|arviz|pandas|jax)\..*"),
    ("py:class", "string"),
]

# -- API reference ------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"          # the numpydoc Parameters sections carry the types
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}
# numpydoc's per-class member tables would need a stub page per method; autodoc's :members:
# documents them on the class's page instead.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- Gallery: MyST-NB notebooks executed during the build ------------------------------------------
# "cache": a clean checkout (CI) runs every notebook; a second local build reuses the outputs
# while a notebook is unchanged (jupyter-cache under the build folder).
nb_execution_mode = os.environ.get("PYMC_BNN_DOCS_EXECUTE", "cache")
nb_execution_timeout = 600          # seconds per cell; the quick examples take well under 1 min
nb_execution_raise_on_error = True  # a failing example fails the build
nb_execution_show_tb = True
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "pymc-bnn"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path: list[str] = []


def _skip_generated_members(app, what, name, obj, skip, options):
    """Leave out the `set_*_request` methods scikit-learn generates on every estimator."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def _numpydoc_template_compiled_once() -> None:
    """Keep numpydoc's first docstring template per builder and hand it to every later docstring.

    numpydoc builds a Jinja environment and compiles its docstring template for every docstring
    it renders (about 2,600 in this site: a tenth of the build's time).
    """
    from numpydoc import docscrape_sphinx
    from numpydoc import numpydoc as extension

    original = docscrape_sphinx.get_doc_object
    templates: dict = {}

    def get_doc_object(obj, what=None, doc=None, config=None, builder=None):
        config = {} if config is None else config
        if builder not in templates:  # numpydoc's own path: it puts the template in config
            found = original(obj, what=what, doc=doc, config=config, builder=builder)
            templates[builder] = config["template"]
            return found
        config["template"] = templates[builder]
        return docscrape_sphinx.get_doc_object_orig(
            obj, what=what, doc=doc, config=config, class_doc=docscrape_sphinx.SphinxClassDoc,
            func_doc=docscrape_sphinx.SphinxFunctionDoc, obj_doc=docscrape_sphinx.SphinxObjDoc)

    extension.get_doc_object = get_doc_object  # the name numpydoc's docstring hook calls


def setup(app):
    """Sphinx extension hook of this project (run after the extensions' own)."""
    app.connect("autodoc-skip-member", _skip_generated_members)
    _numpydoc_template_compiled_once()
