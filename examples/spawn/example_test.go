package main

// The output is the same on every run: FIFO ready queue, ordered timers.
func Example() {
	main()
	// Output:
	// spawn_n 1 runs
	// spawn_n 2 runs
	// spawn_n 3 runs
	// main sleeps
	// spawn_after fired
	// spawn_after returned late <nil>
	// spawn returned 49 <nil>
	// cancelled thread: hub: green thread killed
}
