"""Builds libDBSC, the DBS engine's C library, and ships it inside the `dbs` package.

`pip install ./Integrations/django-dbs` runs this from the repository: it calls
`scripts/install-cabi.sh` (swift build -c release with the Swift runtime linked in and
the version script that exports only the dbs_ functions) into a scratch prefix and
copies `libDBSC.so` to `dbs/_lib/`. The wheel is therefore a platform wheel (no Python
extension: the library is loaded with ctypes, so one wheel serves every Python 3).

DBS_PREBUILT_LIBRARY=/path/to/libDBSC.so skips the Swift build and ships that file
(for packagers who build the library separately).
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent


def build_library(destination: Path) -> None:
    prebuilt = os.environ.get("DBS_PREBUILT_LIBRARY")
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / "libDBSC.so"
    if prebuilt:
        shutil.copyfile(prebuilt, target)
        return
    script = REPOSITORY / "scripts" / "install-cabi.sh"
    if not script.is_file():
        raise SystemExit(
            "django-dbs: cannot build libDBSC: this source tree is not inside the DBS repository "
            f"({script} is missing). Install from the repository (pip install ./Integrations/django-dbs) "
            "or set DBS_PREBUILT_LIBRARY to a built libDBSC.so."
        )
    with tempfile.TemporaryDirectory(prefix="dbs-cabi-") as prefix:
        try:
            subprocess.run(["bash", str(script), prefix], check=True, cwd=REPOSITORY)
        except (OSError, subprocess.CalledProcessError) as error:
            raise SystemExit(
                f"django-dbs: building libDBSC failed ({error}). It needs the Swift 6.3 toolchain and the "
                "Debian -dev packages that README.md names (scripts/install-deps.sh installs them)."
            ) from error
        shutil.copyfile(Path(prefix) / "lib" / "libDBSC.so", target)
    target.chmod(0o755)


class BuildWithEngine(build_py):
    def run(self):
        super().run()
        build_library(Path(self.build_lib) / "dbs" / "_lib")


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(cmdclass={"build_py": BuildWithEngine, "bdist_wheel": PlatformWheel})
