/// The system headers of libb2, gathered as one Clang module for Swift.
#pragma once
#include <blake2.h>
