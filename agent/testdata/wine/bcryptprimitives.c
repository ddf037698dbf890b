/*
 * bcryptprimitives.dll for Wine 8.0, which lacks ProcessPrng: Go's
 * runtime (1.22+) draws its random bytes from it on Windows. This shim
 * forwards it to RtlGenRandom (advapi32's SystemFunction036). Test use
 * only: built by scripts/wine.sh into the Wine prefix, never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
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
