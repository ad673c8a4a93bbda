package bolt

import "syscall"

// dropMapped tells the kernel that the process no longer needs the size bytes of the file mapped
// at addr: they leave its resident memory and stay in the page cache, so the next read of them
// costs a minor fault. It is advice: an error changes nothing and is ignored.
func dropMapped(addr uintptr, size int64) {
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, addr, uintptr(size), syscall.MADV_DONTNEED)
}
