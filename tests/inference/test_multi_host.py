"""Several hosts through `jax.distributed`: two processes on this machine (2 CPU devices each,
Gloo collectives) split each step's rows over all 4 devices and fit as one device does.

It starts two Python processes (over a minute on a busy 2-core machine), more than the suite's
time budget allows: run it with PYMC_BNN_TEST_HOSTS=1."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from pymc_bnn import build_model, fit

SCRIPT = """
import json, os, sys
import pymc_bnn._runtime.jax_setup as jax_setup
jax_setup.expose_cpu_cores()  # PYMC_BNN_CPU_DEVICES=2 per process
import jax
jax.config.update("jax_cpu_collectives_implementation", "gloo")
jax.distributed.initialize(coordinator_address=sys.argv[1], num_processes=2,
                           process_id=int(sys.argv[2]))
from pymc_bnn import build_model, fit
from pymc_bnn.datasets import two_moons
data = two_moons(n_samples=200, split_seed=1)
bnn = build_model(data.X_train, data.y_train, hidden=(4,))
posterior = fit(bnn, "advi", data_devices=jax.device_count(), **json.loads(sys.argv[3]))
print(json.dumps({"elbo": posterior.elbo.tolist(),
                  "data_devices": posterior.diagnostics["data_devices"]}))
"""
OPTIONS = {"restarts": 1, "steps": 100, "tol": 0, "draws": 20, "progress": False,
           "minibatch_size": 50, "random_seed": 4}


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("PYMC_BNN_TEST_HOSTS") != "1",
                    reason="two processes, over a minute: set PYMC_BNN_TEST_HOSTS=1 to run")
def test_two_processes_fit_as_one_device(tmp_path, small_moons):
    script = tmp_path / "host.py"
    script.write_text(SCRIPT)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    environ = os.environ | {"PYMC_BNN_CPU_DEVICES": "2"}
    environ.pop("XLA_FLAGS", None)
    hosts = [subprocess.Popen([sys.executable, str(script), address, str(rank),
                               json.dumps(OPTIONS)], env=environ, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for rank in (0, 1)]
    outputs = [host.communicate(timeout=300) for host in hosts]
    for host, (_, stderr) in zip(hosts, outputs, strict=True):
        assert host.returncode == 0, stderr[-2000:]
    results = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
    one_device = fit(build_model(small_moons.X_train, small_moons.y_train, hidden=(4,)), "advi",
                     **OPTIONS)
    for result in results:
        assert result["data_devices"] == 4
        np.testing.assert_allclose(result["elbo"], one_device.elbo, rtol=1e-9)
