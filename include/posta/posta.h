/* posta: the umbrella header; includes every public posta header. */
#ifndef POSTA_POSTA_H
#define POSTA_POSTA_H

#include <posta/common.h>
#include <posta/error.h>
#include <posta/stream.h>
#include <posta/util.h>
#include <posta/imap.h>
#include <posta/imap_data.h>
#include <posta/sasl.h>
#include <posta/pop3.h>
#include <posta/smtp.h>

#endif
