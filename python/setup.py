# The optional C extension (sharedarray_ring._fast: publish, next and wait
# in C). Built at install when a C compiler is there; without one the
# install goes on and the package uses its pure-Python paths.
from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "sharedarray_ring._fast", ["sharedarray_ring/_fast.c"],
    extra_compile_args=["-O2"], optional=True)])
