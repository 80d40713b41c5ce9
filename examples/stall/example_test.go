package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// The three ways to wait 300ms in a green thread, and whether the ticker,
// which wants to run every 10ms, went on meanwhile: only time.Sleep holds
// up the hub's OS thread. (The program prints the ticker's longest gap,
// which varies with the machine's load; this prints whether it reached
// the whole 300ms.)
func Example() {
	gap := regexp.MustCompile(`longest gap: (\S+)\n`)
	for _, how := range []string{"stdlib", "green", "offload"} {
		var out strings.Builder
		if status := run([]string{"-sleep", how}, &out, io.Discard); status != 0 {
			fmt.Println("exit status", status)
			return
		}
		m := gap.FindStringSubmatch(out.String())
		if m == nil {
			fmt.Printf("unexpected output %q\n", &out)
			return
		}
		longest, err := time.ParseDuration(m[1])
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("-sleep %-7s the ticker stopped for the whole wait: %v\n", how, longest >= blocked)
	}
	// Output:
	// -sleep stdlib  the ticker stopped for the whole wait: true
	// -sleep green   the ticker stopped for the whole wait: false
	// -sleep offload the ticker stopped for the whole wait: false
}
