package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestStall: time.Sleep on the hub's thread stops the ticker for the whole
// sleep and the watchdog names the green thread and its wait; the green
// sleep and the offloaded one leave the ticker running and the watchdog
// quiet.
func TestStall(t *testing.T) {
	gap := regexp.MustCompile(`longest gap: (\S+)\n`)
	tests := []struct {
		sleep   string
		stalled bool
	}{
		{sleep: "stdlib", stalled: true},
		{sleep: "green"},
		{sleep: "offload"},
	}
	for _, tt := range tests {
		t.Run(tt.sleep, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run([]string{"-sleep", tt.sleep}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d\n%s", code, &stderr)
			}
			m := gap.FindStringSubmatch(stdout.String())
			if m == nil {
				t.Fatalf("output %q", &stdout)
			}
			longest, err := time.ParseDuration(m[1])
			if err != nil {
				t.Fatal(err)
			}
			report := strings.Contains(stderr.String(), `level=ERROR msg="hub: the hub's OS thread is blocked in sleep by green thread worker`)
			if stalled := longest >= blocked; stalled != tt.stalled || report != tt.stalled {
				t.Errorf("longest gap %v, watchdog report %v; want a stall: %v\n%s", longest, report, tt.stalled, &stderr)
			}
		})
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-sleep", "nap"}, {"extra"}} {
		var out bytes.Buffer
		if code := run(args, &out, &out); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
