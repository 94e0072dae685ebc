/// The system headers of libargon2, gathered as one Clang module for Swift.
#pragma once
#include <argon2.h>
