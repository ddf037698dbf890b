package wine

import (
	"os"

	"golang.org/x/sys/windows"
)

// Running reports whether this process runs under Wine: CSCS_WINE=1, or
// ntdll.dll exports wine_get_version (Windows' does not).
func Running() bool {
	if os.Getenv(Env) == "1" {
		return true
	}
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
