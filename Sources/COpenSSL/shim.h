#ifndef DRILL_COPENSSL_SHIM_H
#define DRILL_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
#endif
