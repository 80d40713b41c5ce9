//go:build linux || darwin || freebsd

package netio

import "golang.org/x/sys/unix"

// System call seams, in goleak's style (_osExit = os.Exit): tests swap them
// to inject faults — EAGAIN storms, EMFILE, ECONNRESET — and put them back.
// Only the hub's thread calls them, so a test may swap them between hub
// runs or from inside a green thread.
var (
	sysRead     = readNonblock
	sysWrite    = writeNonblock
	sysRecvfrom = unix.Recvfrom
	sysRecvmsg  = unix.Recvmsg
	sysSendto   = unix.Sendto
	sysConnect  = unix.Connect
	sysClose    = unix.Close
	// sysAccept and sysSocket are defined per OS: they return descriptors
	// that are already non-blocking and close-on-exec.
)
