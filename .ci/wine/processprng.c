/*
 * bcryptprimitives.dll for Wine 8, which lacks it: Go 1.22 and later load
 * ProcessPrng from it at start-up and exit before main without it. This
 * DLL exports only that function, on top of advapi32's RtlGenRandom
 * (exported as SystemFunction036), which Wine has. For test runs under
 * Wine only: real Windows has its own bcryptprimitives.dll.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* ProcessPrng fills data with len random bytes; it always returns TRUE,
 * as Windows' does. RtlGenRandom takes a ULONG, so a larger request is
 * filled in pieces. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}

BOOL WINAPI DllMainCRTStartup(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	(void)inst;
	(void)reason;
	(void)reserved;
	return TRUE;
}
