package swap

import (
	"context"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// PageFileReader reads the page file's size and use on Windows: its use
// from the performance counter \Paging File(_Total)\% Usage, its size
// from GlobalMemoryStatusEx (commit limit less physical memory, as Task
// Manager and gopsutil count it). When the counter cannot be read
// (performance counters disabled or damaged, or Wine, which has none),
// use is estimated from GlobalMemoryStatusEx alone: the commit charge
// beyond physical memory in use. (The counter's errors name the PDH
// status; gopsutil's said "The operation completed successfully.")
type PageFileReader struct{}

func (PageFileReader) Read(context.Context) (Stats, error) {
	return readPageFile(pagingPercent, globalMemoryStatus)
}

// memoryStatus holds GlobalMemoryStatusEx's figures, in bytes.
type memoryStatus struct {
	totalPhys, availPhys         uint64
	totalPageFile, availPageFile uint64 // the commit limit and what is left of it
}

// readPageFile combines the counter's percentage with the memory status;
// tests pass fakes.
func readPageFile(percent func() (float64, error), status func() (memoryStatus, error)) (Stats, error) {
	ms, err := status()
	if err != nil {
		return Stats{}, err
	}
	if ms.totalPageFile <= ms.totalPhys {
		return Stats{}, nil // no page file
	}
	total := ms.totalPageFile - ms.totalPhys
	p, perr := percent()
	if perr == nil && p >= 0 && p <= 100 {
		return Stats{TotalBytes: total, UsedBytes: uint64(p / 100 * float64(total))}, nil
	}
	committed := ms.totalPageFile - min(ms.availPageFile, ms.totalPageFile)
	inRAM := ms.totalPhys - min(ms.availPhys, ms.totalPhys)
	var used uint64
	if committed > inRAM {
		used = min(committed-inRAM, total)
	}
	return Stats{TotalBytes: total, UsedBytes: used}, nil
}

func globalMemoryStatus() (memoryStatus, error) {
	// MEMORYSTATUSEX
	var st struct {
		length, memoryLoad                               uint32
		totalPhys, availPhys, totalPageFile, availPage   uint64
		totalVirtual, availVirtual, availExtendedVirtual uint64
	}
	st.length = uint32(unsafe.Sizeof(st))
	proc := windows.NewLazySystemDLL("kernel32.dll").NewProc("GlobalMemoryStatusEx")
	if ok, _, err := proc.Call(uintptr(unsafe.Pointer(&st))); ok == 0 {
		return memoryStatus{}, fmt.Errorf("GlobalMemoryStatusEx: %w", err)
	}
	return memoryStatus{totalPhys: st.totalPhys, availPhys: st.availPhys, totalPageFile: st.totalPageFile, availPageFile: st.availPage}, nil
}

// pdhStatus is a PDH function's return value: 0 is success, anything else
// an error the system's error text does not describe (GetLastError, which
// a LazyProc's Call returns, stays 0: "The operation completed
// successfully." is what a swap error said before).
type pdhStatus uint32

// Some PDH statuses (pdhmsg.h).
const (
	pdhNoData           pdhStatus = 0x800007D5
	pdhCstatusNoObject  pdhStatus = 0xC0000BB8
	pdhCstatusNoCounter pdhStatus = 0xC0000BB9
	pdhInvalidData      pdhStatus = 0xC0000BC6
	pdhBadCounterName   pdhStatus = 0xC0000BC0
)

func (s pdhStatus) Error() string {
	var name string
	switch s {
	case pdhNoData:
		name = " (PDH_NO_DATA: the counter has no data)"
	case pdhCstatusNoObject:
		name = " (PDH_CSTATUS_NO_OBJECT: no Paging File object; are performance counters disabled or damaged? lodctr /r rebuilds them)"
	case pdhCstatusNoCounter:
		name = " (PDH_CSTATUS_NO_COUNTER: the counter is missing)"
	case pdhInvalidData:
		name = " (PDH_INVALID_DATA: the counter's data is not valid)"
	case pdhBadCounterName:
		name = " (PDH_CSTATUS_BAD_COUNTERNAME: the counter path is not valid)"
	}
	return fmt.Sprintf("PDH status 0x%08X%s", uint32(s), name)
}

// pdhCall calls a PDH function and turns its status into an error.
func pdhCall(name string, args ...uintptr) error {
	proc := windows.NewLazySystemDLL("pdh.dll").NewProc(name)
	if err := proc.Find(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if r, _, _ := proc.Call(args...); r != 0 {
		return fmt.Errorf("%s: %w", name, pdhStatus(r))
	}
	return nil
}

// pagingPercent reads \Paging File(_Total)\% Usage.
func pagingPercent() (float64, error) {
	const path = `\Paging File(_Total)\% Usage`
	var query, counter windows.Handle
	if err := pdhCall("PdhOpenQueryW", 0, 0, uintptr(unsafe.Pointer(&query))); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	defer func() { _ = pdhCall("PdhCloseQuery", uintptr(query)) }()
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, err
	}
	if err := pdhCall("PdhAddEnglishCounterW", uintptr(query), uintptr(unsafe.Pointer(name)), 0, uintptr(unsafe.Pointer(&counter))); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	if err := pdhCall("PdhCollectQueryData", uintptr(query)); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	// PDH_FMT_COUNTERVALUE with a double: a status, padding, the value.
	var value struct {
		status uint32
		_      uint32
		double float64
	}
	const pdhFmtDouble = 0x00000200
	if err := pdhCall("PdhGetFormattedCounterValue", uintptr(counter), pdhFmtDouble, 0, uintptr(unsafe.Pointer(&value))); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	if value.status != 0 {
		return 0, fmt.Errorf("read %s: %w", path, pdhStatus(value.status))
	}
	return value.double, nil
}
