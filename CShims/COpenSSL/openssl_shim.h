/// The system headers of libcrypto, gathered as one Clang module for Swift.
#pragma once
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
