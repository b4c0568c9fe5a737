"""Worker processes get a PyTensor compile folder of their own."""

import os

from pymc_bnn._runtime.workers import use_private_compiledir


def test_a_worker_gets_its_own_compiledir_and_the_main_process_keeps_its_own():
    environ = {"PYTENSOR_FLAGS": "floatX=float64"}
    folder = use_private_compiledir(environ, modules={}, in_worker=True)
    assert os.path.isdir(folder)
    assert environ["PYTENSOR_FLAGS"] == f"floatX=float64,base_compiledir={folder}"
    assert use_private_compiledir({}, modules={}, in_worker=False) is None
    assert use_private_compiledir({}, modules={"pytensor": object()}, in_worker=True) is None
    mine = {"PYTENSOR_FLAGS": "base_compiledir=/mine"}
    assert use_private_compiledir(mine, modules={}, in_worker=True) is None
    assert mine == {"PYTENSOR_FLAGS": "base_compiledir=/mine"}
