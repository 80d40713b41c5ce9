package reserve

import (
	"fmt"
	"os"

	"github.com/greenhub/greenhub/service"
)

// Role is where a program launched with several workers listens.
type Role struct {
	// Worker says this process is a worker (service.Worker); Index is its
	// index then.
	Worker bool
	Index  int
	// Addr is the address to listen on: the one the parent reserved, with
	// its port chosen.
	Addr string
	// Files are what the parent hands its workers (service.LaunchService):
	// the reserved socket. Nil in a worker.
	Files []*os.File
}

// Close releases the parent's reserved socket (after the launcher's Wait).
func (r Role) Close() {
	for _, f := range r.Files {
		f.Close()
	}
}

// Workers sets up a program that runs several worker processes, in either
// role, as the same program runs as both: in the parent it reserves addr
// (Reserve); in a worker it reads the address back from the socket the
// parent handed down (Addr). A worker's error wraps service.ErrNoRespawn: a
// worker without its parent's socket cannot recover.
func Workers(addr string) (Role, error) {
	index, inherited, isWorker := service.Worker()
	if !isWorker {
		f, at, err := Reserve(addr)
		if err != nil {
			return Role{}, err
		}
		return Role{Addr: at, Files: []*os.File{f}}, nil
	}
	if len(inherited) != 1 {
		return Role{}, fmt.Errorf("a worker needs the parent's socket, has %d files: %w", len(inherited), service.ErrNoRespawn)
	}
	at, err := Addr(inherited[0], addr)
	if err != nil {
		return Role{}, fmt.Errorf("the parent's socket: %v: %w", err, service.ErrNoRespawn)
	}
	return Role{Worker: true, Index: index, Addr: at}, nil
}
