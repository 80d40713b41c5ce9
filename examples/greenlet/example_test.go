package main

// The classic greenlet program prints 12, 56 and 34, never 78.
func Example() {
	main()
	// Output:
	// 12
	// 56
	// 34
}
