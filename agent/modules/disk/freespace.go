package disk

// fromFreeSpace turns GetDiskFreeSpaceExW's figures into Usage: free for
// the caller (after quotas), total, and free in all.
func fromFreeSpace(availToCaller, total, totalFree uint64) Usage {
	totalFree = min(totalFree, total)
	return Usage{
		TotalBytes: total,
		UsedBytes:  total - totalFree,
		FreeBytes:  min(availToCaller, totalFree),
	}
}
