"""The build of the fast engine's optional C scans (extractors/_speedups.c, see extractors/native.py).

Everything else about the package is in pyproject.toml; setuptools' ext-modules table there is still
experimental, this call is not. ``optional``: without a C compiler the package installs and runs the
same scans in Python.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("extractors._speedups", ["extractors/_speedups.c"], optional=True)])
