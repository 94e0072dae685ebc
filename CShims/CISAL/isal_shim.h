/// The system headers of libisal, gathered as one Clang module for Swift.
#pragma once
#include <isa-l/erasure_code.h>
#include <isa-l/gf_vect_mul.h>
#include <isa-l.h> /* ISAL_*_VERSION, for LibraryVersions */
