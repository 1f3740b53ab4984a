/*
 * comb_mix.h — internal hooks of comb_mix.c for tests.
 */
#ifndef XCHAN_COMB_MIX_H
#define XCHAN_COMB_MIX_H

#include "xchan/xchan.h"

/* 1 when the mix task has picked up the last control change (so every
 * value it takes from now on is handled under the new attributes).  Tests
 * wait for it instead of sleeping. */
int xchan__mix_settled(xchan_mix *m);

#endif
