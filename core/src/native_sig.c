/*
 * native_sig.c — the signature strings of native workers: parsing and
 * checking arguments against them.  The grammar is in xchan_ext.h.
 *
 * Design notes
 *  - Pure functions, no locks, no allocation: every problem is reported as
 *    a return code plus a message written into the caller's buffer, so a
 *    bad signature can never leave anything half-done.
 */
#include "native.h"

#include <stdio.h>
#include <string.h>

static int
is_type_letter(char c)
{
	return c != 0 && strchr("idbspc", c) != NULL;
}

const char *
xchan__native_letter_name(char letter)
{
	switch (letter) {
	case 'v':
		return "void";
	case 'i':
		return "int64_t";
	case 'd':
		return "double";
	case 'b':
		return "bool";
	case 's':
		return "const char *";
	case 'p':
		return "void *";
	case 'c':
		return "xchan_chan *";
	default:
		return "?";
	}
}

int32_t
xchan__native_sig_parse(xchan__native_sig *out, const char *text, char *msg,
    size_t msg_size)
{
	static const char grammar[] =
	    "expected RET(ARGS) with RET one of v,i,d,b,s,p,c and ARGS "
	    "letters of i,d,b,s,p,c";
	memset(out, 0, sizeof(*out));
	if (text == NULL) {
		snprintf(msg, msg_size, "signature is NULL");
		return XCHAN_EINVAL;
	}
	const char *p = text;
	if (*p != 'v' && !is_type_letter(*p)) {
		snprintf(msg, msg_size,
		    "signature \"%s\": bad return letter at position 0 (%s)",
		    text, grammar);
		return XCHAN_EINVAL;
	}
	out->ret = *p++;
	if (*p != '(') {
		snprintf(msg, msg_size,
		    "signature \"%s\": expected '(' at position 1 (%s)", text,
		    grammar);
		return XCHAN_EINVAL;
	}
	p++;
	while (*p != ')') {
		if (*p == 0) {
			snprintf(msg, msg_size,
			    "signature \"%s\": missing ')' (%s)", text,
			    grammar);
			return XCHAN_EINVAL;
		}
		if (!is_type_letter(*p)) {
			snprintf(msg, msg_size,
			    "signature \"%s\": bad argument letter '%c' at "
			    "position %d (%s)",
			    text, *p, (int)(p - text), grammar);
			return XCHAN_EINVAL;
		}
		if (out->nargs == XCHAN_NATIVE_MAX_ARGS) {
			snprintf(msg, msg_size,
			    "signature \"%s\": more than %d arguments", text,
			    XCHAN_NATIVE_MAX_ARGS);
			return XCHAN_EINVAL;
		}
		out->args[out->nargs++] = *p++;
	}
	if (p[1] != 0) {
		snprintf(msg, msg_size,
		    "signature \"%s\": unexpected text after ')' at position "
		    "%d",
		    text, (int)(p + 1 - text));
		return XCHAN_EINVAL;
	}
	return XCHAN_OK;
}

/* Whether a value of kind `kind` may be passed for `letter`. */
static int
kind_fits(char letter, uint32_t kind)
{
	switch (letter) {
	case 'i':
		return kind == XCHAN_INT;
	case 'd':
		return kind == XCHAN_DOUBLE || kind == XCHAN_INT;
	case 'b':
		return kind == XCHAN_BOOL;
	case 's':
		return kind == XCHAN_STRING;
	case 'p':
		return kind == XCHAN_BOX || kind == XCHAN_NIL;
	case 'c':
		return kind == XCHAN_CHAN;
	default:
		return 0;
	}
}

static const char *
letter_wants(char letter)
{
	switch (letter) {
	case 'i':
		return "int";
	case 'd':
		return "double or int";
	case 'b':
		return "bool";
	case 's':
		return "string";
	case 'p':
		return "box or nil";
	case 'c':
		return "chan";
	default:
		return "?";
	}
}

int32_t
xchan__native_sig_check_args(const xchan__native_sig *sig, const char *symbol,
    const char *text, const xchan_val *args, size_t nargs, char *msg,
    size_t msg_size)
{
	if (args == NULL && nargs > 0) {
		snprintf(msg, msg_size, "args is NULL but nargs is %zu", nargs);
		return XCHAN_EINVAL;
	}
	if (nargs != sig->nargs) {
		snprintf(msg, msg_size,
		    "\"%s\" (signature \"%s\") takes %u argument%s, got %zu",
		    symbol, text, sig->nargs, sig->nargs == 1 ? "" : "s",
		    nargs);
		return XCHAN_EINVAL;
	}
	for (size_t k = 0; k < nargs; k++) {
		char letter = sig->args[k];
		if (!kind_fits(letter, args[k].kind)) {
			snprintf(msg, msg_size,
			    "argument %zu of \"%s\" (signature \"%s\") must "
			    "be %s, got %s",
			    k + 1, symbol, text, letter_wants(letter),
			    xchan_kind_name(args[k].kind));
			return XCHAN_ETYPE;
		}
		if (letter == 's') {
			const char *s;
			size_t len;
			if (xchan_get_string(args[k], &s, &len) != XCHAN_OK ||
			    memchr(s, 0, len) != NULL) {
				snprintf(msg, msg_size,
				    "argument %zu of \"%s\" is a string with "
				    "an embedded NUL: it cannot be passed as "
				    "const char *",
				    k + 1, symbol);
				return XCHAN_EINVAL;
			}
		}
	}
	return XCHAN_OK;
}
