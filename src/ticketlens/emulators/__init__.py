"""The AWS emulators ticketlens runs against, one module per emulator.

Each module says what it patches in its emulator and why. Today:

* :mod:`ticketlens.emulators.localstack`: LocalStack's runtime started without Docker, on
  loopback, with its state under ``.ticketlens/localstack/`` (``ticketlens localstack``);
* :mod:`ticketlens.emulators.moto`: moto's server on loopback, in-process or as a
  background service with its state in ``.ticketlens/emulator.json`` (``ticketlens emulator``);
* :mod:`ticketlens.emulators.endpoint`: which endpoint a command talks to (``--endpoint``,
  ``AWS_ENDPOINT_URL``, else the local emulator this checkout left running, else AWS).

:func:`identify` tells which one answers at an endpoint, and :func:`deploy_target` whether
the template's functions can run there, so ``ticketlens setup`` and ``demo`` pick the
deployment mode on their own.
"""

from ._probe import DeployTarget, EmulatorKind, deploy_target, identify

__all__ = ["DeployTarget", "EmulatorKind", "deploy_target", "identify"]
