//go:build !linux

package bolt

// dropMapped does nothing here; see drop_linux.go.
func dropMapped(addr uintptr, size int64) {}
