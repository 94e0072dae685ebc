/// The system headers of libzstd, gathered as one Clang module for Swift.
#pragma once
#include <zstd.h>
