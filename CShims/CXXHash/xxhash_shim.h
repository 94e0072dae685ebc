/// The system headers of libxxhash, gathered as one Clang module for Swift.
#pragma once
#include <xxhash.h>
