// Symbol visibility for the zkr shared library.
//
// The library is built with hidden visibility; only what is marked ZKR_API is exported.
#pragma once

#if defined(ZKR_BUILDING_LIBRARY)
#define ZKR_API __attribute__((visibility("default")))
#else
#define ZKR_API
#endif
