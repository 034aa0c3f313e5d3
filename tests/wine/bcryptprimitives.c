/* Stand-in for Windows' bcryptprimitives.dll, which Debian's wine 8.0 lacks: Rust's std (>= 1.78)
 * imports ProcessPrng from it and a Windows build cannot start without it. Forwards to
 * advapi32's RtlGenRandom (SystemFunction036), which wine has. Used only by the tests. */
#include <windows.h>

typedef BOOLEAN(WINAPI *RtlGenRandomFn)(PVOID, ULONG);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    static RtlGenRandomFn gen = 0;
    if (!gen) {
        gen = (RtlGenRandomFn)GetProcAddress(LoadLibraryA("advapi32.dll"), "SystemFunction036");
        if (!gen) {
            return FALSE;
        }
    }
    while (len > 0) {
        ULONG n = len > 0x7fffffff ? 0x7fffffff : (ULONG)len;
        if (!gen(data, n)) {
            return FALSE;
        }
        data += n;
        len -= n;
    }
    return TRUE;
}
