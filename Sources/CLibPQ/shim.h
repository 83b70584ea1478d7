#ifndef DRILL_CLIBPQ_SHIM_H
#define DRILL_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
