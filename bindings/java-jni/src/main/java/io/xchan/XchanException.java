package io.xchan;

/**
 * An error reported by xchan. {@link #code()} is the core's error name (for
 * example {@code "ECLOSED"}), {@link #number()} its fixed number. Each core
 * error has a nested subclass of the same name, so callers can catch exactly
 * one: {@code catch (XchanException.ETIMEDOUT e)}. The list mirrors the
 * core's XCHAN_ERRORS table; a test checks it against the loaded library.
 */
public class XchanException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int number;

    XchanException(int number, String message) {
        super(name(number) + ": " + message);
        this.number = number;
    }

    /** The core's error name, e.g. "ETIMEDOUT". */
    public String code() { return name(number); }

    /** The core's error number (fixed for ever). */
    public int number() { return number; }

    static final String[] NAMES = {
        "OK", "EINVAL", "ENOMEM", "ECLOSED", "ETIMEDOUT", "EAGAIN", "ECANCELED",
        "ELIMIT", "ENIL", "ERUNTIME", "EDONE", "ESTATE", "EVERSION", "ELOAD",
        "EXFORM", "ETYPE", "ESHUTDOWN", "ETASK", "EINTERNAL", "EINTR", "EFORK"};

    static String name(int number) {
        return number >= 0 && number < NAMES.length ? NAMES[number] : "EUNKNOWN";
    }

    /** Builds the subclass for {@code number}; called by the JNI code too. */
    static XchanException of(int number, String message) {
        switch (number) {
            case 1: return new EINVAL(message);
            case 2: return new ENOMEM(message);
            case 3: return new ECLOSED(message);
            case 4: return new ETIMEDOUT(message);
            case 5: return new EAGAIN(message);
            case 6: return new ECANCELED(message);
            case 7: return new ELIMIT(message);
            case 8: return new ENIL(message);
            case 9: return new ERUNTIME(message);
            case 10: return new EDONE(message);
            case 11: return new ESTATE(message);
            case 12: return new EVERSION(message);
            case 13: return new ELOAD(message);
            case 14: return new EXFORM(message);
            case 15: return new ETYPE(message);
            case 16: return new ESHUTDOWN(message);
            case 17: return new ETASK(message);
            case 18: return new EINTERNAL(message);
            case 19: return new EINTR(message);
            case 20: return new EFORK(message);
            default: return new XchanException(number, message);
        }
    }

    /** Invalid argument. */
    public static final class EINVAL extends XchanException { EINVAL(String m) { super(1, m); } }
    /** Out of memory. */
    public static final class ENOMEM extends XchanException { ENOMEM(String m) { super(2, m); } }
    /** Channel is closed. */
    public static final class ECLOSED extends XchanException { ECLOSED(String m) { super(3, m); } }
    /** Deadline passed before the operation completed (nothing transferred). */
    public static final class ETIMEDOUT extends XchanException { ETIMEDOUT(String m) { super(4, m); } }
    /** Operation cannot complete now. */
    public static final class EAGAIN extends XchanException { EAGAIN(String m) { super(5, m); } }
    /** Operation was canceled. */
    public static final class ECANCELED extends XchanException { ECANCELED(String m) { super(6, m); } }
    /** Too many pending operations on the channel (1024 by default). */
    public static final class ELIMIT extends XchanException { ELIMIT(String m) { super(7, m); } }
    /** nil cannot be put (Java code sees NullPointerException instead). */
    public static final class ENIL extends XchanException { ENIL(String m) { super(8, m); } }
    /** A host value of another runtime (e.g. a Python object) was taken. */
    public static final class ERUNTIME extends XchanException { ERUNTIME(String m) { super(9, m); } }
    /** Operation has already completed. */
    public static final class EDONE extends XchanException { EDONE(String m) { super(10, m); } }
    /** Call not allowed in the current state. */
    public static final class ESTATE extends XchanException { ESTATE(String m) { super(11, m); } }
    /** Library and binding versions do not match. */
    public static final class EVERSION extends XchanException { EVERSION(String m) { super(12, m); } }
    /** Cannot load a library or symbol. */
    public static final class ELOAD extends XchanException { ELOAD(String m) { super(13, m); } }
    /** A channel transform failed. */
    public static final class EXFORM extends XchanException { EXFORM(String m) { super(14, m); } }
    /** Value is of a different kind. */
    public static final class ETYPE extends XchanException { ETYPE(String m) { super(15, m); } }
    /** xchan is shut down. */
    public static final class ESHUTDOWN extends XchanException { ESHUTDOWN(String m) { super(16, m); } }
    /** A task failed. */
    public static final class ETASK extends XchanException { ETASK(String m) { super(17, m); } }
    /** Internal error. */
    public static final class EINTERNAL extends XchanException { EINTERNAL(String m) { super(18, m); } }
    /** Wait interrupted by a signal. */
    public static final class EINTR extends XchanException { EINTR(String m) { super(19, m); } }
    /** xchan cannot be used in a child process after fork(). */
    public static final class EFORK extends XchanException { EFORK(String m) { super(20, m); } }
}
