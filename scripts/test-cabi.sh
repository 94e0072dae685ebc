#!/usr/bin/env bash
# Tests the C API (include/dbs.h, libDBSC.so) from outside Swift:
#  1. builds the release library with the Swift runtime linked in and installs it,
#     with its pkg-config file, into .build/cabi/prefix (scripts/install-cabi.sh);
#  2. shows `ldd` and fails if the library needs any Swift runtime library;
#  3. checks that dbs.h declares each function exactly as Swift compiled it;
#  4. compiles Tests/CABI/dbs_abi_test.c with cc through pkg-config and runs it
#     (with each Reed-Solomon backend);
#  5. runs it again under valgrind: definite leaks and invalid reads or writes fail;
#  6. compiles and runs the C example and runs the Python ctypes example of
#     docs/C-API.md, extracted from the document, so the document stays true.
#
# Valgrind runs with its uninitialised-value checks on (DBS_VALGRIND_UNDEF=0 turns them
# off when investigating something else); they once caught the file-tree reader copying
# a whole `dirent.d_name` past the kernel's record.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="$root/.build/cabi"
prefix="$work/prefix"
mkdir -p "$work"

echo "== build and install libDBSC into $prefix"
bash scripts/install-cabi.sh "$prefix"
library="$prefix/lib/libDBSC.so"

echo "== ldd $library"
ldd "$library"
if ldd "$library" | grep -Eiq 'swift|Foundation|dispatch|BlocksRuntime|icu'; then
    echo "FAIL: libDBSC.so needs a Swift runtime library" >&2
    exit 1
fi
exported="$(nm -D --defined-only "$library" | awk '$2 == "T" {print $3}' | sort)"
declared="$(grep -oE '\bdbs_[a-z_0-9]+\(' include/dbs.h | tr -d '(' | sort -u)"
if [ "$exported" != "$declared" ]; then
    echo "FAIL: the exported functions differ from those dbs.h declares:" >&2
    diff <(echo "$declared") <(echo "$exported") >&2 || true
    exit 1
fi
echo "exports: $(echo "$exported" | wc -l) functions, exactly those of include/dbs.h"

echo "== dbs.h against the Swift definitions"
# The compiler writes the C declarations of the @c functions as it compiled them;
# one C file includes both headers, so any difference in a parameter or return type
# is a "conflicting types" error. The handles are the one deliberate difference
# (opaque `void *` on the Swift side), so they are normalized first.
xcheck="$work/xcheck"
rm -rf "$xcheck" && mkdir -p "$xcheck"
modules="$(swift build -c release --show-bin-path)/Modules"
maps=()
for map in CShims/*/module.modulemap; do maps+=(-Xcc "-fmodule-map-file=$root/$map"); done
swiftc -typecheck -parse-as-library -module-name DBSC Sources/DBSC/*.swift -I "$modules" "${maps[@]}" \
    -emit-clang-header-path "$xcheck/DBSC-Swift.h"
sed -i 's|[<"]\.\./\.\./include/dbs\.h[>"]|"dbs.h"|' "$xcheck/DBSC-Swift.h"
sed -E 's/\bdbs_(writer|reader) \*\*/void **/g; s/\bdbs_(writer|reader) \*/void */g' include/dbs.h > "$xcheck/dbs.h"
printf '#include "dbs.h"\n#include "DBSC-Swift.h"\n' > "$xcheck/check.c"
clang -std=c11 -fsyntax-only -Werror=incompatible-pointer-types -I"$xcheck" "$xcheck/check.c"
echo "every declaration of dbs.h matches its Swift definition"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cflags="-std=c11 -Wall -Wextra -Werror -O1 -g"

echo "== C test (pkg-config: $(pkg-config --cflags --libs dbs))"
# shellcheck disable=SC2046,SC2086
cc $cflags Tests/CABI/dbs_abi_test.c $(pkg-config --cflags --libs dbs) -lpthread -o "$work/dbs_abi_test"
rm -rf "$work/scratch" && "$work/dbs_abi_test" "$work/scratch"
for backend in isal simd scalar; do # each backend by name: the default above is whichever the calibration picked
    rm -rf "$work/scratch-$backend"
    DBS_RS_BACKEND=$backend "$work/dbs_abi_test" "$work/scratch-$backend" | tail -1
done

echo "== C test under valgrind"
undef="yes"
[ "${DBS_VALGRIND_UNDEF:-1}" = 0 ] && undef="no"
rm -rf "$work/scratch-valgrind"
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --undef-value-errors="$undef" --error-exitcode=99 \
    "$work/dbs_abi_test" "$work/scratch-valgrind"
echo "valgrind: no definite leaks, no invalid accesses, no use of uninitialised values"

echo "== docs/C-API.md examples"
extract() { # the first fenced block of language $1 in docs/C-API.md
    awk -v lang="$1" '$0 == "```" lang {inside = 1; next} inside && $0 == "```" {exit} inside {print}' docs/C-API.md
}
extract c > "$work/backup_example.c"
# shellcheck disable=SC2046,SC2086
cc $cflags "$work/backup_example.c" $(pkg-config --cflags --libs dbs) -o "$work/backup_example"
rm -rf "$work/example" && mkdir -p "$work/example/data/sub"
printf 'first\n' > "$work/example/data/a.txt"
head -c 100000 /dev/urandom > "$work/example/data/sub/b.bin"
"$work/backup_example" "$work/example/out.dbs" "$work/example/data"
extract python > "$work/ctypes_example.py"
DBSC_LIBRARY="$library" python3 "$work/ctypes_example.py"
echo "== C API: all passed"
