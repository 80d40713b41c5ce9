//go:build amd64 || arm64

package hub

// getg returns an identity of the calling goroutine: the address of the
// runtime's g structure, read from the g register or thread-local storage
// (one instruction; no system call, no allocation). It is used only to ask
// "is the caller the goroutine the hub is running?" and is never
// dereferenced. goroutine_other.go has a slower portable version for other
// architectures.
func getg() uintptr
