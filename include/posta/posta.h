/* posta: the umbrella header; includes every public posta header. */
#ifndef POSTA_POSTA_H
#define POSTA_POSTA_H

#include <posta/common.h>
#include <posta/error.h>
#include <posta/stream.h>

#endif
