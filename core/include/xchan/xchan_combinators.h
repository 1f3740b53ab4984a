/*
 * xchan_combinators.h — channel combinators, part of the stable ABI.
 * Included by xchan.h; do not include it alone.
 */
#ifndef XCHAN_COMBINATORS_H
#define XCHAN_COMBINATORS_H
#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
