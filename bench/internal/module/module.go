// Package module finds the root of the Go module the benchmark commands
// run in, where they build their peers and write their reports. Any
// goroutine may call Root.
package module

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Root returns the directory of the go.mod of the module the current
// directory is in, as `go env GOMOD` reports it. cmd names the command in
// the error returned outside a module.
func Root(ctx context.Context, cmd string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run %s inside the greenhub module", cmd)
	}
	return filepath.Dir(gomod), nil
}
