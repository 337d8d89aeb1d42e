/*
 * espimg.h - libespimg umbrella header: version, error codes, and every
 * module header.
 *
 * Conventions (see README.md): functions return int, >= 0 on success and a
 * negative ESPIMG_E* code on failure.  Detailed findings about an input go to
 * a caller-owned diagnostics list (diag.h).  The library never prints, never
 * exits and never reads the environment.
 */
#ifndef ESPIMG_ESPIMG_H
#define ESPIMG_ESPIMG_H

#include "espimg/common.h"
#include "espimg/chip.h"
#include "espimg/diag.h"
#include "espimg/emit.h"
#include "espimg/flash.h"
#include "espimg/ihex.h"
#include "espimg/image.h"
#include "espimg/io.h"
#include "espimg/manifest.h"
#include "espimg/merge.h"
#include "espimg/otadata.h"
#include "espimg/ptable.h"
#include "espimg/release.h"
#include "espimg/sigblock.h"
#include "espimg/verify.h"

#endif
