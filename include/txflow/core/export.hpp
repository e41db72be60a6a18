#pragma once
/// @file
/// TXFLOW_EXPORT marks a class or function as public API. A shared build
/// (BUILD_SHARED_LIBS=ON) compiles with -fvisibility=hidden, so only names
/// marked here are exported from libtxflow.so; a static build exports
/// everything anyway, and the mark costs nothing there.
#if defined(_WIN32)
#define TXFLOW_EXPORT
#else
/// Marks a class or function as exported from a shared libtxflow.
#define TXFLOW_EXPORT __attribute__((visibility("default")))
#endif
