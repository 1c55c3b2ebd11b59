#ifndef SWIFT_NEX_CSODIUM_SHIM_H
#define SWIFT_NEX_CSODIUM_SHIM_H
#include <sodium.h>
#endif
