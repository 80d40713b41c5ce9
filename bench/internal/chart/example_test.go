package chart_test

import (
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/greenhub/greenhub/bench/internal/chart"
)

// A chart of two servers' throughput at three loads, one of them failed
// at the highest: a group of bars per load, a bar per server, and no bar
// for the failure. The y axis goes LegendRoom above the tallest bar and
// is labelled with thousands separators.
func ExampleGroupedBars() {
	loads := []string{"10 conns", "100 conns", "1,000 conns"}
	servers := []string{"greenhub", "goroutines"}
	msgsPerSec := map[string][]float64{
		"greenhub":   {41000, 52000, 50500},
		"goroutines": {38000, 55000, 0}, // 0: the run failed
	}
	p, err := chart.GroupedBars("echo throughput", "messages/s", loads, servers, func(server string, load int) (float64, bool) {
		v := msgsPerSec[server][load]
		return v, v > 0
	})
	if err != nil {
		log.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "chart-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "throughput.svg") // .png, .pdf… work as well
	if err := chart.Save(p, file, chart.Width(len(loads))); err != nil {
		log.Fatal(err)
	}

	fmt.Printf("y axis up to %s (room for a legend of %d)\n", chart.Thousands(int(math.Round(p.Y.Max))), len(servers))
	for _, tick := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if tick.Label != "" {
			fmt.Print(tick.Label, " ")
		}
	}
	fmt.Println()
	// Output:
	// y axis up to 72,600 (room for a legend of 2)
	// 0 30,000 60,000
}
