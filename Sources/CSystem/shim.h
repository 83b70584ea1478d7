#ifndef DRILL_CSYSTEM_SHIM_H
#define DRILL_CSYSTEM_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <unistd.h>

/// pipe2(O_CLOEXEC): glibc declares it only under _GNU_SOURCE, which Swift's Glibc module does not set.
static inline int drill_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
#endif
