package netio

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(emfileChildEnv) != "" {
		os.Exit(emfileChild())
	}
	goleak.VerifyTestMain(m)
}
